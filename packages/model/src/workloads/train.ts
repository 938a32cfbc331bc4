/**
 * `train`: AdamW steps on B×T windows of the training text. Measures time per step and peak bytes
 * per category (weights, act, grad, optim, tmp) over the steps.
 */
import { Rng } from "@tradeoffs/core-tensor";
import { corpusFor } from "../corpus.js";
import { AdamW } from "../optimizer.js";
import { sampleBatch, trainStep } from "../training.js";
import { type Measured, measured, median, type RunSpec } from "./common.js";
import type { TrainSamples } from "./repeat.js";

export interface TrainWorkloadOptions {
  readonly batch?: number;
  readonly seq?: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly seed?: number;
}

export interface TrainResult extends Measured {
  readonly kind: "train";
  readonly batch: number;
  readonly seq: number;
  readonly steps: number;
  /** Median wall time of one step (forward, backward, optimizer). */
  readonly stepMs: number;
  readonly losses: readonly number[];
  readonly trainableParams: number;
  /** Every run's step time when the result merges repeated runs (`mergeTrain`); `stepMs` is their median. */
  readonly samples?: TrainSamples;
}

export function runTrain(spec: RunSpec, options: TrainWorkloadOptions = {}): TrainResult {
  const B = options.batch ?? 4;
  const T = options.seq ?? 64;
  const steps = options.steps ?? 2;
  const workload = { kind: "train", batch: B, seq: T, generate: 0 } as const;
  return measured(spec, workload, (model) => {
    const params = model.parameters();
    const opt = new AdamW(params, { lr: options.lr ?? 1e-3 });
    const rng = new Rng(options.seed ?? 7);
    const data = corpusFor(model.arch.vocab).train;
    const losses: number[] = [];
    const times: number[] = [];
    try {
      for (let s = 0; s < steps; s++) {
        const t0 = performance.now();
        losses.push(trainStep(model, opt, sampleBatch(data, B, T, rng)));
        times.push(performance.now() - t0);
      }
    } finally {
      opt.dispose();
    }
    return {
      kind: "train" as const,
      batch: B,
      seq: T,
      steps,
      stepMs: median(times),
      losses,
      trainableParams: params.reduce((s, p) => s + p.size, 0),
    };
  });
}
