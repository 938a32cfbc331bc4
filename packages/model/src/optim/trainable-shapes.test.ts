import { describe, expect, it } from "vitest";
import { estimate } from "../estimator.js";
import { filled, parse } from "../registry.js";
import { Transformer } from "../transformer.js";
import { effectiveChoice } from "./train-estimate.js";
import { trainableShapes } from "./trainable-shapes.js";
import { trainingOptimBytes } from "./training-choice.js";

const TRAIN = { kind: "train", batch: 1, seq: 8, generate: 0 } as const;
const sorted = (shapes: readonly (readonly number[])[]) => shapes.map((s) => s.join("x")).sort();

describe("trainableShapes: the tensors the executable model trains", () => {
  for (const config of [
    "Baseline",
    "GQA[kvHeads=2]",
    "MoE[experts=4,topK=2]",
    "INT8+LoRA",
    "NF4+LoRA[rank=4]",
  ]) {
    it(`${config} on tiny: the shapes of model.parameters(), one entry per tensor`, () => {
      const c = parse(config);
      const plan = estimate("tiny", filled(c), TRAIN).plan;
      const model = Transformer.create("tiny", c, { seed: 1 });
      try {
        const params = model.parameters();
        expect(sorted(trainableShapes(plan))).toEqual(sorted(params.map((p) => p.shape)));
      } finally {
        model.dispose();
      }
    });
  }

  it("the estimator's optim bytes, summed per shape group, equal the sum over every tensor", () => {
    for (const model of ["tiny", "llama2-70b", "mixtral-8x7b"] as const) {
      for (const config of ["Baseline", "MoE", "QLoRA"]) {
        for (const name of ["adamw", "adafactor", "adamw8bit"] as const) {
          const training = { optimizer: { name } };
          const e = estimate(model, filled(parse(config)), TRAIN, { training });
          const perTensor = trainingOptimBytes(effectiveChoice(e.plan, training), trainableShapes(e.plan));
          expect(e.bytes.optim, `${model} ${config} ${name}`).toBe(perTensor);
        }
      }
    }
  });
});
