// Korthikanti et al. (2022), "Reducing Activation Recomputation in Large Transformer Models",
// arXiv:2205.05198, Table 2: activation bytes per layer for a GPT layer, 16-bit activations.
import type { ArchSpec } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { getPreset } from "../presets.js";
import {
  korthikantiLayerBytes,
  layerActivation,
  type Recompute,
  stageActivationBytes,
} from "./activations.js";

/** A GPT-3-style layer (MHA, 4h GeLU MLP) of hidden h and a heads. */
function gpt(h: number, a: number): ArchSpec {
  return {
    name: `gpt-h${h}`,
    layers: 96,
    dModel: h,
    heads: a,
    kvHeads: a,
    headDim: h / a,
    ffnHidden: 4 * h,
    ffnKind: "gelu",
    vocab: 51200,
    tiedEmbeddings: true,
    norm: "layernorm",
    positional: "learned",
    maxSeq: 2048,
    biases: true,
    experts: 1,
    topK: 1,
    sharedExperts: 0,
    capacity: Number.POSITIVE_INFINITY,
    ropeTheta: 10000,
    normEps: 1e-5,
  };
}

// The paper's model sizes (its Table 3): 22B (h 6144, a 64), 175B (12288, 96), 530B (20480, 128),
// 1T (25600, 160), all at s = 2048 and t = 8.
const MODELS = [
  { name: "22B", h: 6144, a: 64 },
  { name: "175B", h: 12288, a: 96 },
  { name: "530B", h: 20480, a: 128 },
  { name: "1T", h: 25600, a: 160 },
];

describe("activations: the term-by-term model reduces to Korthikanti et al.'s Table 2", () => {
  const cases: { recompute: Recompute; sp: boolean }[] = [
    { recompute: "none", sp: false },
    { recompute: "none", sp: true },
    { recompute: "selective", sp: false },
    { recompute: "selective", sp: true },
    { recompute: "full", sp: false },
  ];
  for (const m of MODELS) {
    for (const t of [1, 8]) {
      for (const c of cases) {
        it(`${m.name}, t=${t}, ${c.recompute}${c.sp ? " + SP" : ""}`, () => {
          const ours = layerActivation(gpt(m.h, m.a), {
            seq: 2048,
            microBatch: 1,
            tp: t,
            sp: c.sp && t > 1,
            recompute: c.recompute,
            flash: false,
            dropout: true,
          }).total;
          expect(ours).toBeCloseTo(
            korthikantiLayerBytes(2048, 1, m.h, m.a, t, { ...c, sp: c.sp && t > 1 }),
            3,
          );
        });
      }
    }
  }

  it("no parallelism: sbh(34 + 5as/h), the paper's equation (1)", () => {
    const [s, b, h, a] = [2048, 1, 12288, 96];
    expect(korthikantiLayerBytes(s, b, h, a, 1, { sp: false, recompute: "none" })).toBe(
      s * b * h * (34 + (5 * a * s) / h),
    );
  });

  it("GPT-3 175B at t=8: SP + selective recompute cut activations about 5× (the paper's headline)", () => {
    const base = korthikantiLayerBytes(2048, 1, 12288, 96, 8, { sp: false, recompute: "none" });
    const both = korthikantiLayerBytes(2048, 1, 12288, 96, 8, { sp: true, recompute: "selective" });
    expect(base / both).toBeGreaterThan(5);
    expect(base / both).toBeLessThan(6);
  });
});

describe("activations: beyond GPT", () => {
  const llama: ArchSpec = {
    ...gpt(8192, 64),
    kvHeads: 8,
    ffnHidden: 28672,
    ffnKind: "swiglu",
    norm: "rmsnorm",
  };
  const o = {
    seq: 4096,
    microBatch: 1,
    tp: 8,
    sp: true,
    recompute: "none" as const,
    flash: false,
    dropout: false,
  };

  it("Flash attention drops the a·s² scores and keeps a 4-byte log-sum-exp per row", () => {
    const std = layerActivation(llama, o);
    const fl = layerActivation(llama, { ...o, flash: true });
    expect(std.quadratic).toBe((2 * 64 * 4096 * 4096) / 8);
    expect(fl.quadratic).toBe(0);
    expect(fl.split - std.split).toBe((4 * 4096 * 64) / 8);
  });

  it("GQA stores K and V for the device's KV heads; below tp they are replicated (one head each)", () => {
    const a = layerActivation(llama, { ...o, sp: false }).split;
    const b = layerActivation({ ...llama, kvHeads: 4 }, { ...o, sp: false }).split;
    expect(a).toBe(b); // 8/8 and 4/8 → 1 head per device either way
  });

  it("a pipeline stage holds its layers × micro-batches in flight, plus the edge tensors", () => {
    const per = layerActivation(llama, o).total;
    const middle = stageActivationBytes(llama, o, 10, 4, false, false);
    expect(middle).toBe(10 * 4 * per);
    const last = stageActivationBytes(llama, o, 10, 1, false, true);
    expect(last).toBe(10 * per + (2 * 2 * 4096 * 8192) / 8 + (4 * 4096 * llama.vocab) / 8);
  });

  it("an MoE model's dense first layers count as dense layers (one FFN, no router), on the first stage only", () => {
    const ds = getPreset("deepseek-moe-16b").arch; // 1 dense layer of F 10944, 64 experts of F 1408
    const asDense: ArchSpec = {
      ...ds,
      experts: 1,
      topK: 1,
      sharedExperts: 0,
      denseLayers: 0,
      ffnHidden: ds.denseFfnHidden!,
    };
    const p = { ...o, tp: 1, sp: false };
    expect(layerActivation(ds, p, true)).toEqual(layerActivation(asDense, p));
    expect(layerActivation(ds, p, true).total).not.toBe(layerActivation(ds, p).total);
    const moe = layerActivation(ds, p).total;
    const dense = layerActivation(ds, p, true).total;
    const first = stageActivationBytes(ds, p, 3, 2, true, false);
    expect(first).toBe((2 * moe + dense) * 2);
    expect(stageActivationBytes(ds, p, 3, 2, false, false)).toBe(3 * moe * 2);
    // Full recomputation rebuilds the larger of the stage's two layer kinds once.
    const full = { ...p, recompute: "full" as const };
    const rebuilt = Math.max(moe, dense);
    expect(stageActivationBytes(ds, full, 3, 1, true, false)).toBe(
      3 * layerActivation(ds, full).total + rebuilt,
    );
  });
});
