import { standardAttention } from "@tradeoffs/attention";
import {
  ConfigError,
  compose,
  matmul,
  parseConfig,
  Rng,
  randn,
  reshape,
  type Strategy,
  scope,
  type Tensor,
  transpose,
  ValueError,
  zeros,
} from "@tradeoffs/core-tensor";
import { expectNoLeak, sampleArch, samplePlan } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { meanPoolKvHeads } from "./convert-heads.js";
import { gqa } from "./gqa.js";
import { validKvHeads } from "./heads-rules.js";
import { mha } from "./mha.js";
import { mqa } from "./mqa.js";
import { kvCacheStrategies } from "./registry.js";

const registry = kvCacheStrategies;

/** x [B, T, dModel] · Wᵀ with W [H·D, dModel] → heads [B, H, T, D]. */
function project(x: Tensor, w: Tensor, heads: number, headDim: number): Tensor {
  const [B, T] = x.shape as [number, number, number];
  const y = matmul(x, w, { transB: true }); // (B, T, H·D)
  return transpose(reshape(y, [B, T, heads, headDim]), [0, 2, 1, 3]); // (B, H, T, D)
}

/** K/V heads a heads strategy converts an MHA projection of `heads` heads into (its executable part). */
function convertedKvHeads(s: Strategy<"heads">, heads: number, headDim = 2): number {
  const w = zeros([heads * headDim, 3]);
  const out = s.exec.convertKv(w, heads, heads, headDim);
  w.dispose();
  out.dispose();
  return out.dim(0) / headDim;
}

describe("GQA and MQA strategies", () => {
  it("default to kvHeads 2 (GQA) and 1 (MQA) and parse from their CLI words", () => {
    expect(gqa().label).toBe("GQA[kvHeads=2]");
    expect(convertedKvHeads(gqa(), 8)).toBe(2);
    expect(mqa().label).toBe("MQA");
    expect(convertedKvHeads(mqa(), 8)).toBe(1);
    expect(parseConfig("GQA", registry).label).toBe("GQA[kvHeads=2]");
    expect(parseConfig("GQA[kvHeads=4]+KV[int8]", registry).label).toBe("GQA[kvHeads=4]+KV[dtype=int8]");
    expect(convertedKvHeads(parseConfig("MQA", registry).get("heads")!, 4)).toBe(1);
  });

  it("set arch.kvHeads in a new plan", () => {
    const p = samplePlan(sampleArch({ heads: 8, kvHeads: 8 }));
    expect(gqa({ kvHeads: 4 }).plan(p).arch.kvHeads).toBe(4);
    expect(mqa().plan(p).arch.kvHeads).toBe(1);
    expect(mqa().plan(p)).toEqual(gqa({ kvHeads: 1 }).plan(p));
    expect(p.arch.kvHeads).toBe(8);
  });

  it("report kvHeads ≤ 0 at construction, naming what is valid", () => {
    for (const k of [0, -2]) {
      expect(() => gqa({ kvHeads: k })).toThrow(ConfigError);
      expect(() => gqa({ kvHeads: k })).toThrow(
        /kvHeads must be a positive integer dividing the query heads/,
      );
    }
    expect(() => parseConfig("GQA[kvHeads=0]", registry)).toThrow(ConfigError);
  });

  it("report kvHeads that do not divide the heads, listing the divisors", () => {
    const arch = sampleArch({ heads: 8, kvHeads: 8 });
    expect(gqa({ kvHeads: 3 }).check({ arch })).toEqual([
      "GQA[kvHeads=3]: kvHeads=3 does not divide the 8 query heads; valid for 8 heads: 1, 2, 4, 8",
    ]);
    expect(gqa({ kvHeads: 16 }).check({ arch })[0]).toMatch(/valid for 8 heads: 1, 2, 4, 8/);
    expect(() => compose(gqa(), mqa())).toThrow(/slot 'heads' has 2 strategies/);
    expect(compose(gqa({ kvHeads: 3 })).check({ arch })).toHaveLength(1);
    expect(gqa({ kvHeads: 4 }).check({ arch })).toEqual([]);
    expect(mqa().check({ arch })).toEqual([]);
    expect(() => convertedKvHeads(gqa({ kvHeads: 3 }), 8)).toThrow(ValueError);
    expect(() => convertedKvHeads(gqa({ kvHeads: 3 }), 8)).toThrow(/1, 2, 4, 8/);
  });

  it("keep plan() pure for an indivisible arch: kvHeads set, the problem noted, nothing thrown", () => {
    const p = samplePlan(sampleArch({ heads: 6, kvHeads: 6 }));
    const q = gqa({ kvHeads: 4 }).plan(p);
    expect(q.arch.kvHeads).toBe(4);
    expect(q.notes).toEqual([
      "GQA[kvHeads=4]: kvHeads=4 does not divide the 6 query heads; valid for 6 heads: 1, 2, 3, 6",
    ]);
    expect(p.notes).toEqual([]);
  });

  it("validKvHeads lists the divisors (property: each divides, nothing else does)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), (h) => {
        const v = validKvHeads(h);
        for (let d = 1; d <= h; d++) expect(v.includes(d)).toBe(h % d === 0);
      }),
    );
  });
});

describe("GQA[kvHeads=heads] is MHA", () => {
  it("has the same plan and K/V head count for every head count", () => {
    for (const h of [1, 2, 3, 4, 8, 64]) {
      const p = samplePlan(sampleArch({ heads: h, kvHeads: 1 }));
      expect(gqa({ kvHeads: h }).plan(p)).toEqual(mha().plan(p));
      expect(convertedKvHeads(gqa({ kvHeads: h }), h)).toBe(convertedKvHeads(mha(), h));
    }
  });

  it("gives bit-identical attention through the converted (mean-pooled) K/V projections", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(11);
        const [B, T, dModel, H, D] = [2, 6, 16, 4, 4];
        const x = randn([B, T, dModel], rng);
        const wq = randn([H * D, dModel], rng, { std: 0.3 });
        const wk = randn([H * D, dModel], rng, { std: 0.3 });
        const wv = randn([H * D, dModel], rng, { std: 0.3 });
        const kvHeads = convertedKvHeads(gqa({ kvHeads: H }), H);
        const q = project(x, wq, H, D);
        const mhaOut = standardAttention(q, project(x, wk, H, D), project(x, wv, H, D), { causal: true });
        const wk2 = meanPoolKvHeads(wk, H, kvHeads, D);
        const wv2 = meanPoolKvHeads(wv, H, kvHeads, D);
        const gqaOut = standardAttention(q, project(x, wk2, kvHeads, D), project(x, wv2, kvHeads, D), {
          causal: true,
        });
        expect(gqaOut.toArray()).toEqual(mhaOut.toArray());
      }),
    );
  });
});
