/**
 * Training choices end to end on the tiny model: the ledger's `optim` and `grad` bytes equal the
 * estimator's for every optimizer (and with bf16 parameters, with and without master weights) over
 * configurations whose trainable tensors differ (dense, LoRA adapters, MoE routers, frozen INT8
 * linears); gradient accumulation keeps `grad` at one set and steps like the full batch; bad choices
 * name every problem.
 */
import { ConfigError, MemoryLedger, noGrad, Rng, tensor, withLedger } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { corpusFor } from "../corpus.js";
import { estimate } from "../estimator.js";
import { parse } from "../registry.js";
import { sampleBatch, sampleMicroBatches, trainStep } from "../training.js";
import { Transformer } from "../transformer.js";
import { runTrain } from "../workloads/train.js";
import { Bf16Params, roundToBf16 } from "./master-weights.js";
import { createOptimizer, OPTIMIZER_NAMES } from "./registry.js";
import { type TrainingChoice, trainingChoiceProblems } from "./training-choice.js";

/** One accumulated step of 2 × B/2 against one step of B: largest |Δw| relative to the largest step. */
const ACCUM_TOL = 1e-4;

describe("ledger optim and grad bytes equal the estimator's", () => {
  const configs = ["Baseline", "QLoRA", "MoE", "INT8"];
  for (const name of OPTIMIZER_NAMES)
    for (const c of configs)
      it(`${name} on ${c}`, () => {
        const t = runTrain(
          { model: "tiny", config: parse(c), seed: 1 },
          { batch: 2, seq: 16, steps: 1, training: { optimizer: { name } } },
        );
        expect(t.optimizer).toBe(name);
        expect(t.peak.optim).toBeGreaterThan(0);
        expect(t.peak.optim).toBe(t.estimate.bytes.optim);
        expect(t.peak.grad).toBe(t.estimate.bytes.grad);
        expect(t.estimate.exact.optim).toBe(true);
      });

  it("8-bit AdamW on small: 2 B/param + scales for tensors of ≥ 4096, f32 for norms, and a quarter of AdamW's", () => {
    const w = { kind: "train" as const, batch: 1, seq: 8, generate: 0 };
    const a = estimate("small", parse("Baseline"), w).bytes.optim;
    const q = estimate("small", parse("Baseline"), w, { training: { optimizer: { name: "adamw8bit" } } })
      .bytes.optim;
    expect(q / a).toBeGreaterThan(0.25);
    expect(q / a).toBeLessThan(0.26);
  });

  for (const master of [false, true])
    it(`bf16 parameters, master weights ${master ? "on" : "off"}: optim ${master ? "+" : "without"} 4 B/param`, () => {
      const training: TrainingChoice = {
        optimizer: { name: "adamw" },
        params: "bf16",
        masterWeights: master,
      };
      const spec = { model: "tiny" as const, config: parse("Baseline"), seed: 1 };
      const t = runTrain(spec, { batch: 2, seq: 16, steps: 2, training });
      const plain = runTrain(spec, { batch: 2, seq: 16, steps: 1 });
      expect(t.peak.optim).toBe(t.estimate.bytes.optim);
      expect(t.peak.optim - plain.peak.optim).toBe(master ? 4 * t.trainableParams : 0);
      expect(t.estimate.notes.some((n) => n.startsWith("bf16 parameters"))).toBe(true);
    });

  it("a published model keeps its mixed-precision default (12 B/param with AdamW) and follows the choice", () => {
    const w = { kind: "train" as const, batch: 1, seq: 512, generate: 0 };
    const base = estimate("llama2-7b", parse("Baseline"), w);
    const n = base.params.trainable;
    expect(base.bytes.optim).toBe(12 * n);
    const lion = estimate("llama2-7b", parse("Baseline"), w, {
      training: { optimizer: { name: "lion" }, masterWeights: false },
    });
    expect(lion.bytes.optim).toBe(4 * n);
    const ada = estimate("llama2-7b", parse("Baseline"), w, {
      training: { optimizer: { name: "adafactor" } },
    });
    // Factored: far below one f32 per parameter, plus the master copy.
    expect(ada.bytes.optim - 4 * n).toBeLessThan(0.01 * n);
    expect(ada.exact.optim).toBe(true);
  });
});

describe("gradient accumulation", () => {
  it("grad bytes do not grow with N; act shrinks with the micro-batch; estimate follows", () => {
    const spec = { model: "tiny" as const, config: parse("Baseline"), seed: 1 };
    const one = runTrain(spec, { batch: 4, seq: 16, steps: 1 });
    const four = runTrain(spec, { batch: 4, seq: 16, steps: 1, training: { gradAccum: 4 } });
    expect(four.gradAccum).toBe(4);
    expect(four.peak.grad).toBe(one.peak.grad);
    expect(four.peak.act).toBeLessThan(one.peak.act);
    for (const k of ["weights", "grad", "optim"] as const) expect(four.peak[k]).toBe(four.estimate.bytes[k]);
    expect(four.peak.act).toBe(four.estimate.bytes.act);
    expect(four.estimate.flops.trainStep).toBeCloseTo(one.estimate.flops.trainStep, -3);
  });

  it(`2 micro-batches of B/2 step like one batch of B (|Δw| ≤ ${ACCUM_TOL} of the largest step)`, () => {
    const data = corpusFor(64).train;
    const models = [0, 1].map(() => Transformer.create("tiny", parse("Baseline"), { seed: 3 }));
    const opts = models.map((m) => createOptimizer(m.parameters(), { name: "sgd", lr: 0.5, momentum: 0 }));
    const before = models[0]!.parameters().map((p) => Float32Array.from(p.data));
    const l1 = trainStep(models[0]!, opts[0]!, sampleBatch(data, 4, 16, new Rng(5)));
    const l2 = trainStep(models[1]!, opts[1]!, sampleMicroBatches(data, 4, 16, new Rng(5), 2));
    expect(l2).toBeCloseTo(l1, 5);
    let largest = 0;
    let diff = 0;
    models[0]!.parameters().forEach((p, i) => {
      const q = models[1]!.parameters()[i]!;
      for (let j = 0; j < p.size; j++) {
        largest = Math.max(largest, Math.abs(p.data[j]! - before[i]![j]!));
        diff = Math.max(diff, Math.abs(p.data[j]! - q.data[j]!));
      }
    });
    expect(largest).toBeGreaterThan(1e-4);
    expect(diff).toBeLessThanOrEqual(ACCUM_TOL * largest);
    for (const o of opts) o.dispose();
    for (const m of models) m.dispose();
  });
});

describe("bf16 parameters", () => {
  it("parameters hold bf16 values; without a master copy updates below half an ulp are lost, with one they add up", () => {
    const ledger = new MemoryLedger({ name: "bf16" });
    withLedger(ledger, () => {
      const run = (master: boolean) => {
        const p = tensor([1, 1, 1, 1], [4]);
        const opt = new Bf16Params(
          [p],
          (ts) => createOptimizer(ts, { name: "sgd", lr: 1e-3, momentum: 0, clip: 0 }),
          master,
        );
        for (let s = 0; s < 10; s++) {
          p.grad = tensor([1, 1, 1, 1], [4], { category: "grad" }); // step 1e-3 < half a bf16 ulp at 1 (2^-8)
          noGrad(() => opt.step());
          opt.zeroGrad();
        }
        const v = p.data[0]!;
        const copy = tensor([v], [1]);
        roundToBf16(copy);
        expect(copy.data[0]).toBe(v); // bf16-representable
        copy.dispose();
        opt.dispose();
        p.dispose();
        return v;
      };
      expect(run(false)).toBe(1); // every 1e-3 step rounds back to 1
      expect(run(true)).toBe(0.98828125); // the master reaches 0.99, whose nearest bf16 is 0.98828125
    });
    expect(ledger.live()).toBe(0);
  });
});

describe("bad training choices", () => {
  it("lists every problem with the values involved", () => {
    const p = trainingChoiceProblems(
      { optimizer: { name: "adam" as never }, params: "fp8" as never, masterWeights: true, gradAccum: 3 },
      4,
    );
    expect(p.join("\n")).toMatch(/optimizer 'adam' is not one of adamw, adamw8bit, adafactor, sgd, lion/);
    expect(p.join("\n")).toMatch(/parameter dtype 'fp8'/);
    expect(p.join("\n")).toMatch(/master weights .* need params bf16/);
    expect(p.join("\n")).toMatch(/gradient accumulation 3 must divide the batch 4/);
    expect(trainingChoiceProblems({ gradAccum: 0 })[0]).toMatch(/positive integer .* got 0/);
    expect(() =>
      runTrain({ model: "tiny", config: parse("Baseline") }, { batch: 3, training: { gradAccum: 2 } }),
    ).toThrow(ConfigError);
  });
});
