/**
 * Decoding one token at a time against K/V kept in the KV stores equals full causal recomputation,
 * for every head layout (MHA, GQA, MQA) and every KV dtype.
 */
import { standardAttention } from "@tradeoffs/attention";
import { empty, type KvStore, Rng, randn, scope, slice, type Tensor } from "@tradeoffs/core-tensor";
import { expectClose, expectNoLeak } from "@tradeoffs/strategy-testkit";
import { describe, it } from "vitest";
import { KV_DTYPE_NAMES, KV_DTYPES } from "./kv-dtype.js";

/** Decode vs full attention on the same (stored) K/V: same math, summation order may differ. */
const DECODE_SAME_KV_TOL = { atol: 1e-6, rtol: 1e-6 };
/**
 * Decode from a lossy store vs full attention on the exact f32 K/V (unit-normal K/V and q, D = 8):
 * fp16 moves each K/V element by ≤ 2⁻¹¹ relative; int8 by ≤ absmax/254 (≈ 0.01 here), which moves
 * scores by ≲ 0.03 and outputs by about as much. Bounds set ~3× above the observed worst case
 * (fp32 2.4e-7, fp16 7.0e-4, int8 0.011 over these 9 cases).
 */
const DTYPE_DECODE_TOL = { fp32: 1e-6, fp16: 2e-3, int8: 3e-2 } as const;

/** Copy k [1, Hkv, T, D] position t of every head into `store` at vector h·maxSeq + t. */
function append(store: KvStore, k: Tensor, t: number, maxSeq: number): void {
  const [, Hkv, T, D] = k.shape as [number, number, number, number];
  for (let h = 0; h < Hkv; h++) store.write(h * maxSeq + t, k.data, (h * T + t) * D);
}

/** The first `len` positions of every head, decoded to f32 [1, Hkv, len, D] (a `tmp` tensor). */
function readPrefix(store: KvStore, kvHeads: number, len: number, maxSeq: number): Tensor {
  const D = store.dim;
  const out = empty([1, kvHeads, len, D]);
  for (let h = 0; h < kvHeads; h++)
    for (let i = 0; i < len; i++) store.read(h * maxSeq + i, out.data, (h * len + i) * D);
  return out;
}

describe("decode against the KV stores equals full recomputation", () => {
  for (const dtype of KV_DTYPE_NAMES) {
    for (const [layout, kvHeads] of [
      ["MHA", 4],
      ["GQA[kvHeads=2]", 2],
      ["MQA", 1],
    ] as const) {
      it(`${layout} × KV[${dtype}]`, () => {
        expectNoLeak(() =>
          scope(() => {
            const [H, T, D] = [4, 10, 8];
            const rng = new Rng(21 + kvHeads);
            const q = randn([1, H, T, D], rng);
            const k = randn([1, kvHeads, T, D], rng);
            const v = randn([1, kvHeads, T, D], rng);
            const exec = KV_DTYPES[dtype];
            const ks = exec.allocate(kvHeads * T, D, "kv");
            const vs = exec.allocate(kvHeads * T, D, "kv");
            try {
              for (let t = 0; t < T; t++) {
                append(ks, k, t, T);
                append(vs, v, t, T);
              }
              // Full recomputation on exact K/V and on the K/V as the store gives them back.
              const full = standardAttention(q, k, v, { causal: true });
              const fullStored = standardAttention(
                q,
                readPrefix(ks, kvHeads, T, T),
                readPrefix(vs, kvHeads, T, T),
                {
                  causal: true,
                },
              );
              for (let t = 0; t < T; t++) {
                const step = standardAttention(
                  slice(q, 2, t, t + 1), // (1, H, 1, D): the new token's queries
                  readPrefix(ks, kvHeads, t + 1, T), // (1, Hkv, t+1, D)
                  readPrefix(vs, kvHeads, t + 1, T),
                  { causal: true },
                );
                expectClose(step, slice(fullStored, 2, t, t + 1), DECODE_SAME_KV_TOL, `step ${t}`);
                expectClose(
                  step,
                  slice(full, 2, t, t + 1),
                  { atol: DTYPE_DECODE_TOL[dtype] },
                  `step ${t} vs f32`,
                );
              }
            } finally {
              ks.dispose();
              vs.dispose();
            }
          }),
        );
      });
    }
  }
});
