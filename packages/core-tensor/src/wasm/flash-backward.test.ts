/**
 * The WASM Flash backward against the definition in f64: P = softmax(scale·QKᵀ, masked), dV = Pᵀ·dO,
 * dS = scale·P∘(dO·Vᵀ − rowsum(dO∘O)), dQ = dS·K, dK = dSᵀ·Q (summed over grouped query heads), over
 * causal / windowed / full masks, GQA, odd sizes and tiles that do not divide them.
 */
import { afterAll, describe, expect, it } from "vitest";
import { getLedger } from "../ledger.js";
import { Rng } from "../rng.js";
import { wasmAttentionBackward } from "./flash-backward.js";
import { disposeWasm } from "./runtime.js";

/** f32 dot products, the f32 exp and f32 accumulation across key tiles, against f64 sums. */
const FLASH_BACKWARD_TOL = { atol: 2e-5, rtol: 2e-4 } as const;

afterAll(() => disposeWasm());

interface Case {
  B: number;
  H: number;
  Hkv: number;
  tq: number;
  tk: number;
  d: number;
  causal: boolean;
  window: number;
  bq: number;
  bk: number;
}

/** The forward (o, lse) and the gradients by definition, in f64. */
function oracle(c: Case, q: Float32Array, k: Float32Array, v: Float32Array, dO: Float32Array) {
  const { B, H, Hkv, tq, tk, d } = c;
  const scale = 1 / Math.sqrt(d);
  const o = new Float32Array(B * H * tq * d);
  const lse = new Float32Array(B * H * tq);
  const dq = new Float64Array(o.length);
  const dk = new Float64Array(B * Hkv * tk * d);
  const dv = new Float64Array(dk.length);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kh = b * Hkv + Math.floor(h / (H / Hkv));
      for (let i = 0; i < tq; i++) {
        const qi = ((b * H + h) * tq + i) * d;
        const hi = c.causal ? Math.min(i + tk - tq, tk - 1) : tk - 1;
        const lo = c.window > 0 ? Math.max(0, hi - c.window + 1) : 0;
        const s = new Float64Array(tk).fill(Number.NEGATIVE_INFINITY);
        for (let j = lo; j <= hi; j++) {
          let t = 0;
          for (let e = 0; e < d; e++) t += q[qi + e]! * k[(kh * tk + j) * d + e]!;
          s[j] = t * scale;
        }
        const mx = Math.max(...s);
        if (mx === Number.NEGATIVE_INFINITY) {
          lse[(b * H + h) * tq + i] = Number.NEGATIVE_INFINITY;
          continue;
        }
        let z = 0;
        for (let j = lo; j <= hi; j++) z += Math.exp(s[j]! - mx);
        lse[(b * H + h) * tq + i] = mx + Math.log(z);
        const p = Array.from(s, (x) => Math.exp(x - mx) / z);
        const oi = new Float64Array(d);
        for (let j = lo; j <= hi; j++)
          for (let e = 0; e < d; e++) oi[e]! += p[j]! * v[(kh * tk + j) * d + e]!;
        for (let e = 0; e < d; e++) o[qi + e] = oi[e]!;
        let di = 0;
        for (let e = 0; e < d; e++) di += dO[qi + e]! * oi[e]!;
        for (let j = lo; j <= hi; j++) {
          let dp = 0;
          for (let e = 0; e < d; e++) dp += dO[qi + e]! * v[(kh * tk + j) * d + e]!;
          const ds = scale * p[j]! * (dp - di);
          for (let e = 0; e < d; e++) {
            dv[(kh * tk + j) * d + e]! += p[j]! * dO[qi + e]!;
            dk[(kh * tk + j) * d + e]! += ds * q[qi + e]!;
            dq[qi + e]! += ds * k[(kh * tk + j) * d + e]!;
          }
        }
      }
    }
  }
  return { o, lse, dq, dk, dv, scale };
}

function randArray(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

function expectClose(got: Float32Array, want: Float64Array, what: string): void {
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    const tol = FLASH_BACKWARD_TOL.atol + FLASH_BACKWARD_TOL.rtol * Math.abs(want[i]!);
    if (!(err <= tol)) expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

const CASES: Case[] = [
  { B: 1, H: 2, Hkv: 2, tq: 5, tk: 5, d: 4, causal: true, window: 0, bq: 2, bk: 3 },
  { B: 2, H: 4, Hkv: 2, tq: 7, tk: 7, d: 6, causal: true, window: 0, bq: 4, bk: 4 },
  { B: 1, H: 3, Hkv: 1, tq: 9, tk: 9, d: 5, causal: true, window: 3, bq: 4, bk: 2 },
  { B: 1, H: 2, Hkv: 1, tq: 3, tk: 11, d: 8, causal: true, window: 0, bq: 64, bk: 4 },
  { B: 2, H: 2, Hkv: 2, tq: 6, tk: 10, d: 7, causal: false, window: 0, bq: 5, bk: 3 },
  { B: 1, H: 6, Hkv: 6, tq: 33, tk: 33, d: 32, causal: true, window: 0, bq: 16, bk: 16 },
  // Past the split threshold: K/V heads [0, 2) on this thread, [2, 3) on the helper (threads 2).
  { B: 2, H: 6, Hkv: 3, tq: 64, tk: 64, d: 32, causal: true, window: 0, bq: 64, bk: 64 },
];

describe("wasmAttentionBackward", () => {
  for (const c of CASES) {
    const name = `B${c.B} H${c.H}/${c.Hkv} ${c.tq}×${c.tk} d${c.d} ${c.causal ? "causal" : "full"}${c.window ? ` window ${c.window}` : ""} tiles ${c.bq}×${c.bk}`;
    it(`matches the f64 gradients: ${name}`, () => {
      const rng = new Rng(c.tq * 31 + c.d);
      const q = randArray(rng, c.B * c.H * c.tq * c.d);
      const k = randArray(rng, c.B * c.Hkv * c.tk * c.d);
      const v = randArray(rng, k.length);
      const dOut = randArray(rng, q.length);
      const want = oracle(c, q, k, v, dOut);
      const dq = new Float32Array(q.length).fill(7); // overwritten, not accumulated
      const dk = new Float32Array(k.length).fill(7);
      const dv = new Float32Array(k.length).fill(7);
      const before = getLedger().live();
      const args = {
        q,
        k,
        v,
        out: want.o,
        lse: want.lse,
        dOut,
        dq,
        dk,
        dv,
        batch: c.B,
        heads: c.H,
        kvHeads: c.Hkv,
        tq: c.tq,
        tk: c.tk,
        headDim: c.d,
        causal: c.causal,
        window: c.window || undefined,
        scale: want.scale,
        blockQ: c.bq,
        blockK: c.bk,
      };
      wasmAttentionBackward(args);
      expect(getLedger().live()).toBe(before);
      expectClose(dq, want.dq, "dq");
      expectClose(dk, want.dk, "dk");
      expectClose(dv, want.dv, "dv");
      // One thread computes every K/V head's share exactly as the split does.
      const one = { dq: dq.slice().fill(7), dk: dk.slice().fill(7), dv: dv.slice().fill(7) };
      wasmAttentionBackward({ ...args, ...one }, undefined, 1);
      expect(one.dq).toEqual(dq);
      expect(one.dk).toEqual(dk);
      expect(one.dv).toEqual(dv);
    });
  }

  it("rejects heads that kvHeads does not divide, and short arrays, naming them", () => {
    const z = new Float32Array(64);
    const base = {
      q: z,
      k: z,
      v: z,
      out: z,
      lse: z,
      dOut: z,
      dq: z,
      dk: z,
      dv: z,
      batch: 1,
      tq: 2,
      tk: 2,
      headDim: 4,
      causal: true,
      scale: 0.5,
    };
    expect(() => wasmAttentionBackward({ ...base, heads: 3, kvHeads: 2 })).toThrow(/multiple of kvHeads=2/);
    expect(() => wasmAttentionBackward({ ...base, heads: 2, kvHeads: 2, lse: new Float32Array(1) })).toThrow(
      /lse has 1 elements, needs 4/,
    );
  });
});
