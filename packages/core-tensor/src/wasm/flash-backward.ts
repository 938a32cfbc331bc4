/**
 * Flash attention backward on the WASM kernel (assembly/flash-backward.ts): recomputes the score
 * tiles from q, k and the forward's per-row log-sum-exp and accumulates dq, dk, dv, one batch element
 * at a time, its K/V heads split over 2 threads when the work pays for it (each thread's K/V heads and
 * the query heads that read them: disjoint dq, dk, dv). Raw arrays in and out, for the attention
 * package's Flash to call through `Backend.attentionBackward`. Not here: the forward (attention.ts) or
 * autograd.
 */
import type { AttentionBackwardArgs } from "../backend.js";
import { ShapeError } from "../errors.js";
import { wasmZero } from "./fused.js";
import { WASM_SPLIT_MIN_WORK } from "./matmul.js";
import { Arena, type WasmRuntime, wasmRuntime, withWorkspace } from "./runtime.js";

/**
 * dq, dk, dv ← the gradients of out = softmax(scale·q·kᵀ, masked)·v given dOut, from the forward's
 * out and lse (see `AttentionBackwardArgs`); overwrites the three gradients. On up to `threads` (1 or
 * 2) threads.
 */
export function wasmAttentionBackward(
  a: AttentionBackwardArgs,
  rt: WasmRuntime = wasmRuntime(),
  threads = 2,
): void {
  const { batch: B, heads: H, kvHeads: Hkv, tq, tk, headDim: d } = a;
  if (Hkv <= 0 || H % Hkv !== 0) {
    throw new ShapeError("attentionBackward", `heads=${H} must be a multiple of kvHeads=${Hkv}`, {
      heads: H,
      kvHeads: Hkv,
    });
  }
  const qs = H * tq * d;
  const ks = Hkv * tk * d;
  const need: [string, Float32Array, number][] = [
    ["q", a.q, B * qs],
    ["out", a.out, B * qs],
    ["dOut", a.dOut, B * qs],
    ["dq", a.dq, B * qs],
    ["k", a.k, B * ks],
    ["v", a.v, B * ks],
    ["dk", a.dk, B * ks],
    ["dv", a.dv, B * ks],
    ["lse", a.lse, B * H * tq],
  ];
  for (const [name, arr, n] of need) {
    if (arr.length < n) {
      throw new ShapeError("attentionBackward", `${name} has ${arr.length} elements, needs ${n}`, {
        [name]: arr.length,
        needed: n,
      });
    }
  }
  const bq = Math.max(1, Math.min(a.blockQ ?? 64, tq));
  const bk = Math.max(1, Math.min(a.blockK ?? 64, tk));
  const arena = new Arena(rt.scratchBase);
  const at = {
    q: arena.take(qs * 4),
    o: arena.take(qs * 4),
    g: arena.take(qs * 4),
    dq: arena.take(qs * 4),
    k: arena.take(ks * 4),
    v: arena.take(ks * 4),
    dk: arena.take(ks * 4),
    dv: arena.take(ks * 4),
    lse: arena.take(H * tq * 4),
  };
  // Split by K/V heads from the forward's GEMM threshold (the backward's work is a few times the
  // forward's H·tq·tk·d multiply-adds).
  const nt = threads > 1 && Hkv >= 2 && H * tq * tk * d >= WASM_SPLIT_MIN_WORK ? 2 : 1;
  const scratch = Array.from({ length: nt }, () => arena.take((3 * bq * bk + bq) * 4));
  const cut = Math.ceil(Hkv / 2);
  withWorkspace(rt, arena, ({ f32 }) => {
    for (let b = 0; b < B; b++) {
      f32.set(a.q.subarray(b * qs, (b + 1) * qs), at.q >> 2);
      f32.set(a.out.subarray(b * qs, (b + 1) * qs), at.o >> 2);
      f32.set(a.dOut.subarray(b * qs, (b + 1) * qs), at.g >> 2);
      f32.set(a.k.subarray(b * ks, (b + 1) * ks), at.k >> 2);
      f32.set(a.v.subarray(b * ks, (b + 1) * ks), at.v >> 2);
      f32.set(a.lse.subarray(b * H * tq, (b + 1) * H * tq), at.lse >> 2);
      wasmZero(rt, at.dq, qs * 4);
      wasmZero(rt, at.dk, ks * 4);
      wasmZero(rt, at.dv, ks * 4);
      const job = (g0: number, g1: number, t: number): number[] => [
        g0,
        g1,
        H,
        Hkv,
        tq,
        tk,
        d,
        at.q,
        at.k,
        at.v,
        at.o,
        at.lse,
        at.g,
        at.dq,
        at.dk,
        at.dv,
        a.scale,
        a.causal ? 1 : 0,
        a.window ?? 0,
        bq,
        bk,
        scratch[t]!,
      ];
      rt.run("attentionBackward", nt === 2 ? [job(0, cut, 0), job(cut, Hkv, 1)] : [job(0, Hkv, 0)]);
      a.dq.set(f32.subarray(at.dq >> 2, (at.dq >> 2) + qs), b * qs);
      a.dk.set(f32.subarray(at.dk >> 2, (at.dk >> 2) + ks), b * ks);
      a.dv.set(f32.subarray(at.dv >> 2, (at.dv >> 2) + ks), b * ks);
    }
  });
}
