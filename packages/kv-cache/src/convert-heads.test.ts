import { standardAttention } from "@tradeoffs/attention";
import {
  DTypeError,
  getLedger,
  matmul,
  mean,
  Rng,
  randn,
  reshape,
  ShapeError,
  scope,
  type Tensor,
  tensor,
  transpose,
  ValueError,
} from "@tradeoffs/core-tensor";
import { expectClose, expectNoLeak } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { meanPoolKvHeads } from "./convert-heads.js";
import { validKvHeads } from "./heads-rules.js";

/** meanPoolKvHeads (f64 accumulation) vs core's f32 `mean` over the group axis: f32 summation error. */
const MEAN_POOL_TOL = { atol: 1e-6, rtol: 1e-6 };
/** Attention through pooled vs repeated identical heads: same math, different matmul grouping. */
const POOLED_ATTENTION_TOL = { atol: 1e-6, rtol: 1e-5 };

/** Oracle: view W [H·D, dModel] as [Hkv, g, D, dModel] and average axis 1 with core's `mean`. */
function meanPoolOracle(w: Tensor, heads: number, kvHeads: number, headDim: number): Tensor {
  const dModel = w.shape[1]!;
  const grouped = reshape(w, [kvHeads, heads / kvHeads, headDim, dModel]);
  return reshape(mean(grouped, 1), [kvHeads * headDim, dModel]);
}

/** W [H·D, dModel] whose heads repeat within each group of g: head h = base head ⌊h/g⌋. */
function repeatHeads(base: Float32Array, kvHeads: number, g: number, rowLen: number): Float32Array {
  const out = new Float32Array(kvHeads * g * rowLen);
  for (let h = 0; h < kvHeads * g; h++)
    out.set(base.subarray(Math.floor(h / g) * rowLen, (Math.floor(h / g) + 1) * rowLen), h * rowLen);
  return out;
}

describe("meanPoolKvHeads (MHA → GQA/MQA conversion)", () => {
  it("equals the mean over each group of consecutive heads (oracle: core mean)", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(2);
        for (const [H, Hkv, D, dModel] of [
          [8, 2, 4, 12],
          [8, 1, 3, 5],
          [6, 3, 2, 7],
          [4, 4, 4, 4],
        ] as const) {
          const w = randn([H * D, dModel], rng);
          expectClose(
            meanPoolKvHeads(w, H, Hkv, D),
            meanPoolOracle(w, H, Hkv, D),
            MEAN_POOL_TOL,
            "pooled weights",
          );
        }
      }),
    );
  });

  it("returns identical heads unchanged, bit for bit (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4, 6, 8),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.nat(),
        (H, D, dModel, seed, pick) => {
          const divisors = validKvHeads(H);
          const Hkv = divisors[pick % divisors.length]!;
          const rowLen = D * dModel;
          const rng = new Rng(seed);
          const base = Float32Array.from({ length: Hkv * rowLen }, () => rng.normal() * 10);
          expectNoLeak(() =>
            scope(() => {
              const w = tensor(repeatHeads(base, Hkv, H / Hkv, rowLen), [H * D, dModel]);
              expect(Array.from(meanPoolKvHeads(w, H, Hkv, D).data)).toEqual(Array.from(base));
            }),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("kvHeads = heads is an equal copy; w is untouched; the result is charged to weights/attn", () => {
    expectNoLeak(() =>
      scope(() => {
        const w = randn([8, 3], new Rng(4));
        const before = Array.from(w.data);
        const live = getLedger().live("weights/attn");
        const same = meanPoolKvHeads(w, 4, 4, 2);
        expect(getLedger().live("weights/attn") - live).toBe(8 * 3 * 4);
        expect(same).not.toBe(w);
        expect(Array.from(same.data)).toEqual(before);
        const pooled = meanPoolKvHeads(w, 4, 1, 2, { category: "tmp" });
        expect(pooled.shape).toEqual([2, 3]);
        expect(Array.from(w.data)).toEqual(before);
      }),
    );
  });

  it("pooled K/V of identical-head groups give the same attention as the MHA model", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(8);
        const [B, T, dModel, H, Hkv, D] = [1, 5, 8, 4, 2, 4];
        const project = (x: Tensor, w: Tensor, heads: number) =>
          transpose(reshape(matmul(x, w, { transB: true }), [B, T, heads, D]), [0, 2, 1, 3]); // (B, heads, T, D)
        const x = randn([B, T, dModel], rng);
        const wq = randn([H * D, dModel], rng, { std: 0.3 });
        const kBase = randn([Hkv * D, dModel], rng, { std: 0.3 }).data;
        const vBase = randn([Hkv * D, dModel], rng, { std: 0.3 }).data;
        const wk = tensor(repeatHeads(kBase, Hkv, H / Hkv, D * dModel), [H * D, dModel]);
        const wv = tensor(repeatHeads(vBase, Hkv, H / Hkv, D * dModel), [H * D, dModel]);
        const q = project(x, wq, H);
        const mhaOut = standardAttention(q, project(x, wk, H), project(x, wv, H), { causal: true });
        const k = project(x, meanPoolKvHeads(wk, H, Hkv, D), Hkv);
        const v = project(x, meanPoolKvHeads(wv, H, Hkv, D), Hkv);
        expectClose(standardAttention(q, k, v, { causal: true }), mhaOut, POOLED_ATTENTION_TOL, "attention");
      }),
    );
  });

  it("throws typed errors naming the value and what would be valid", () => {
    expectNoLeak(() =>
      scope(() => {
        const w = randn([8, 3], new Rng(1));
        expect(() => meanPoolKvHeads(w, 4, 3, 2)).toThrow(ValueError);
        expect(() => meanPoolKvHeads(w, 4, 3, 2)).toThrow(/valid for 4 heads: 1, 2, 4/);
        expect(() => meanPoolKvHeads(w, 4, 0, 2)).toThrow(/positive integer/);
        expect(() => meanPoolKvHeads(w, 0, 1, 2)).toThrow(/heads must be a positive integer, got 0/);
        expect(() => meanPoolKvHeads(w, 4, 2, 0)).toThrow(/headDim must be a positive integer/);
        expect(() => meanPoolKvHeads(w, 2, 1, 2)).toThrow(ShapeError);
        expect(() => meanPoolKvHeads(w, 2, 1, 2)).toThrow(/\[4, dModel\].*got \[8,3\]/);
        expect(() => meanPoolKvHeads(reshape(w, [24]), 4, 2, 2)).toThrow(ShapeError);
        const half = tensor(new Float32Array(24), [8, 3], { dtype: "f16" });
        expect(() => meanPoolKvHeads(half, 4, 2, 2)).toThrow(DTypeError);
      }),
    );
  });
});
