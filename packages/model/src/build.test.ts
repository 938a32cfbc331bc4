import { getLedger, ValueError } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { getPreset } from "./presets.js";
import { parse } from "./registry.js";
import { Transformer } from "./transformer.js";

describe("Transformer.create refuses what it would not compute", () => {
  const tiny = getPreset("tiny").arch;
  const cases: [string, object, RegExp][] = [
    ["q/k/v biases", { qkvBias: true }, /qkvBias/],
    ["latent attention", { mla: { kvLoraRank: 8, qLoraRank: 0, ropeHeadDim: 4, nopeHeadDim: 4 } }, /mla/],
    ["dense first layers", { denseLayers: 1, denseFfnHidden: 64 }, /denseLayers 1/],
    ["a window on some layers", { window: 4, windowLayers: 1 }, /windowLayers 1 of 2/],
    ["soft-capping", { logitSoftcap: { final: 30 } }, /logitSoftcap/],
    ["four norms per layer", { layerNorms: 4 }, /layerNorms 4 \(runs: 2\)/],
    ["GeLU", { ffnKind: "gelu" }, /ffnKind gelu/],
  ];
  for (const [what, fields, message] of cases) {
    it(`${what}: a ValueError naming the field, nothing allocated`, () => {
      const before = getLedger().live();
      const arch = { ...tiny, ...fields };
      expect(() => Transformer.create(arch, parse("Baseline"))).toThrow(ValueError);
      expect(() => Transformer.create(arch, parse("Baseline"))).toThrow(message);
      expect(getLedger().live()).toBe(before);
    });
  }

  it("the executable presets pass", () => {
    const m = Transformer.create("tiny", parse("Baseline"), { seed: 1 });
    m.dispose();
  });
});
