import { describe, expect, it } from "vitest";
import { clearInitialWeights, initialWeights, initLedger } from "./init-weights.js";
import { parse } from "./registry.js";
import { Transformer } from "./transformer.js";

describe("initialWeights", () => {
  it("is the model's own seeded initialisation, made once and shared", () => {
    const w = initialWeights("tiny", 5);
    expect(initialWeights("tiny", 5)).toBe(w);
    const own = Transformer.create("tiny", parse("Baseline"), { seed: 5 });
    const from = Transformer.create("tiny", parse("Baseline"), { weights: w });
    try {
      const ids = [[1, 2, 3, 4]];
      expect(from.generate(ids, 4)).toEqual(own.generate(ids, 4));
      for (const [name, t] of own.namedTensors())
        expect(Array.from(w.get(name)!.data)).toEqual(Array.from(t.data));
    } finally {
      own.dispose();
      from.dispose();
    }
    // a GQA model converts the shared MHA initialisation, as it converts trained weights
    const gqa = Transformer.create("tiny", parse("GQA[kvHeads=2]"), { weights: w });
    gqa.dispose();
    expect(initLedger.live()).toBeGreaterThan(0);
    clearInitialWeights();
    expect(initLedger.live()).toBe(0);
  });
});
