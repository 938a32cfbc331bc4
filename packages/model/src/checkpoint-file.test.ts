/**
 * The shipped weights by heads layout: which file each configuration runs on (uptrained GQA/MQA,
 * trained MHA, converted on request), the uptrained files' shapes, and their metadata reproduced
 * from the files themselves. Skipped where the weights are not present.
 */
import { ValueError } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import {
  CONVERTED_SOURCE,
  describeWeights,
  hasSmallWeights,
  hasUptrainedWeights,
  isShippedWeights,
  loadSmallWeights,
  loadUptrainedWeights,
  shippedWeightsFor,
  smallMeta,
  UPTRAINED_LAYOUTS,
  uptrainedMeta,
} from "./checkpoint-file.js";
import { loadCorpus } from "./corpus.js";
import { getPreset } from "./presets.js";
import { parse } from "./registry.js";
import { evaluate } from "./training.js";
import { Transformer } from "./transformer.js";
import { weightName } from "./weight-names.js";

const shipped = hasSmallWeights() && UPTRAINED_LAYOUTS.every((l) => hasUptrainedWeights(l.kvHeads));
const { headDim, dModel } = getPreset("small").arch;

describe("loadUptrainedWeights / uptrainedMeta", () => {
  it("reject a layout that is not shipped, naming the shipped ones", () => {
    expect(() => loadUptrainedWeights(3)).toThrow(ValueError);
    expect(() => loadUptrainedWeights(3)).toThrow(
      /3 K\/V heads; shipped: GQA\[kvHeads=2\] \(kvHeads 2\), MQA/,
    );
    expect(() => uptrainedMeta(6)).toThrow(/no uptrained small weights for 6 K\/V heads/);
    expect(hasUptrainedWeights(3)).toBe(false);
  });

  it.skipIf(!shipped)("hold K/V projections of kvHeads × headDim rows, loaded once", () => {
    for (const { kvHeads } of UPTRAINED_LAYOUTS) {
      const w = loadUptrainedWeights(kvHeads);
      expect(loadUptrainedWeights(kvHeads)).toBe(w);
      expect(isShippedWeights(w)).toBe(true);
      for (const p of ["k", "v"] as const)
        expect(w.get(weightName.attn(3, p))!.shape).toEqual([kvHeads * headDim, dModel]);
      expect(w.get(weightName.attn(0, "q"))!.shape).toEqual([6 * headDim, dModel]);
    }
  });

  it.skipIf(!shipped)(
    "record 5% of the MHA model's steps and a validation loss the file reproduces",
    () => {
      for (const { kvHeads, label } of UPTRAINED_LAYOUTS) {
        const meta = uptrainedMeta(kvHeads)!;
        expect([meta.layout, meta.kvHeads]).toEqual([label, kvHeads]);
        expect(meta.steps).toBe(Math.round(0.05 * smallMeta()!.steps));
        expect(meta.valLossUptrained).toBeLessThan(meta.valLossConverted);
      }
      // The script's evaluation (8 × 8 × 128 held-out bytes) on the saved GQA weights; one layout only,
      // since each evaluation is 64 forward windows.
      const meta = uptrainedMeta(2)!;
      const m = Transformer.create("small", parse(meta.layout), { weights: loadUptrainedWeights(2) });
      try {
        expect(evaluate(m, loadCorpus().validation)).toBeCloseTo(meta.valLossUptrained, 4);
      } finally {
        m.dispose();
      }
    },
    120_000,
  );
});

describe("shippedWeightsFor", () => {
  it("ships nothing for presets other than small", () => {
    expect(shippedWeightsFor("tiny", parse("GQA"))).toBeUndefined();
  });

  it.skipIf(!shipped)(
    "gives GQA[kvHeads=2] and MQA layouts their uptrained weights, alone or combined",
    () => {
      const steps = uptrainedMeta(2)!.steps;
      const gqa = shippedWeightsFor("small", parse("GQA"))!;
      expect(gqa.kind).toBe("uptrained");
      expect(gqa.weights).toBe(loadUptrainedWeights(2));
      expect(gqa.source).toBe(`uptrained (GQA kvHeads=2, ${steps} steps)`);
      expect(shippedWeightsFor("small", parse("MoE+Flash+GQA+INT8"))!.weights).toBe(loadUptrainedWeights(2));
      for (const c of ["MQA", "GQA[kvHeads=1]", "Flash+MQA+INT4"]) {
        const mqa = shippedWeightsFor("small", parse(c))!;
        expect(mqa.weights).toBe(loadUptrainedWeights(1));
        expect(mqa.source).toBe(`uptrained (MQA, ${uptrainedMeta(1)!.steps} steps)`);
      }
    },
  );

  it.skipIf(!hasSmallWeights())(
    "gives MHA layouts the trained weights, others the MHA weights to mean-pool",
    () => {
      for (const c of ["Baseline", "INT8", "Flash+NF4", "Ckpt[sqrt]"]) {
        const r = shippedWeightsFor("small", parse(c))!;
        expect(r.kind).toBe("trained");
        expect(r.weights).toBe(loadSmallWeights());
        expect(r.source).toBe(`trained (small, ${smallMeta()!.steps} steps)`);
      }
      // GQA[kvHeads=3] has no uptrained file; `converted` keeps the figure before uptraining available.
      for (const [c, o] of [
        ["GQA[kvHeads=3]", {}],
        ["GQA", { heads: "converted" }],
        ["MQA", { heads: "converted" }],
      ] as const) {
        const r = shippedWeightsFor("small", parse(c), o)!;
        expect([r.kind, r.source]).toEqual(["converted", CONVERTED_SOURCE]);
        expect(r.weights).toBe(loadSmallWeights());
      }
    },
  );
});

describe("describeWeights", () => {
  it("names random initialisation and given weights, and when K/V heads are pooled from them", () => {
    expect(describeWeights("tiny", parse("GQA"), undefined, 7)).toBe("random init (seed 7)");
    const t = Transformer.create("tiny", parse("Baseline"), { seed: 1 });
    try {
      const w = t.namedTensors();
      expect(describeWeights("tiny", parse("INT8"), w, 0)).toBe("given");
      expect(describeWeights("tiny", parse("MQA"), w, 0)).toBe("given, K/V heads mean-pooled from 4 to 1");
      expect(isShippedWeights(w)).toBe(false);
    } finally {
      t.dispose();
    }
  });
});
