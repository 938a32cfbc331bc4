/**
 * `train`: optimizer steps on B×T windows of the training text, with the run's training choice
 * (optimizer, bf16 parameters / master weights, N accumulated micro-batches of B/N). Measures time
 * per step and peak bytes per category (weights, act, grad, optim, tmp) over the steps.
 */
import { Rng } from "@tradeoffs/core-tensor";
import { corpusFor } from "../corpus.js";
import { estimate } from "../estimator.js";
import {
  checkTrainingChoice,
  createTrainingOptimizer,
  type TrainingChoice,
} from "../optim/training-choice.js";
import { filled } from "../registry.js";
import { sampleMicroBatches, trainStep } from "../training.js";
import { type Measured, measured, median, type RunSpec } from "./common.js";
import type { TrainSamples } from "./repeat.js";

/** Options of `runTrain`: `steps` optimizer steps on `batch` × `seq` corpus tokens. */
export interface TrainWorkloadOptions {
  /** Sequences per step; default 4. */
  readonly batch?: number;
  /** Tokens per sequence; default 64. */
  readonly seq?: number;
  /** Optimizer steps; default 2. */
  readonly steps?: number;
  /** Learning rate; default the optimizer's own (AdamW 1e-3, Lion 1e-4, SGD 1e-2, ...). */
  readonly lr?: number;
  /** Seed of the batch sampling; default 7. */
  readonly seed?: number;
  /** Optimizer, parameter dtype, master weights, gradient accumulation (default AdamW, f32, 1). */
  readonly training?: TrainingChoice;
}

/**
 * What `runTrain` measured: peak bytes per category (weights, grads, optimizer state, activations), step
 * time and losses, beside the estimate.
 */
export interface TrainResult extends Measured {
  /** Discriminates the workload results. */
  readonly kind: "train";
  /** Sequences per step. */
  readonly batch: number;
  /** Tokens per sequence. */
  readonly seq: number;
  /** Optimizer steps run. */
  readonly steps: number;
  /** Median wall time of one step (forward, backward, optimizer). */
  readonly stepMs: number;
  /** Training loss of each step (nats per byte). */
  readonly losses: readonly number[];
  /** Parameters the optimizer updated (adapters only under LoRA). */
  readonly trainableParams: number;
  /** The optimizer that ran (`adamw`, `adamw8bit`, ...). */
  readonly optimizer: string;
  /** Micro-batches per step (1 without accumulation). */
  readonly gradAccum: number;
  /** Every run's step time when the result merges repeated runs (`mergeTrain`); `stepMs` is their median. */
  readonly samples?: TrainSamples;
}

/**
 * Builds the model of `spec` and runs `steps` training steps (forward, backward, optimizer) on corpus
 * batches, measuring bytes and time; returns them with the estimate for the same workload.
 */
export function runTrain(spec: RunSpec, options: TrainWorkloadOptions = {}): TrainResult {
  const B = options.batch ?? 4;
  const T = options.seq ?? 64;
  const steps = options.steps ?? 2;
  const choice = options.training ?? {};
  checkTrainingChoice(choice, B);
  const accum = choice.gradAccum ?? 1;
  const optimizer = { ...(choice.optimizer ?? { name: "adamw" as const }) };
  const run = {
    ...choice,
    optimizer: options.lr === undefined ? optimizer : { ...optimizer, lr: options.lr },
  };
  const workload = { kind: "train", batch: B, seq: T, generate: 0 } as const;
  const result = measured(spec, workload, (model) => {
    const params = model.parameters();
    const opt = createTrainingOptimizer(params, run);
    const rng = new Rng(options.seed ?? 7);
    const data = corpusFor(model.arch.vocab).train;
    const losses: number[] = [];
    const times: number[] = [];
    try {
      for (let s = 0; s < steps; s++) {
        const t0 = performance.now();
        losses.push(trainStep(model, opt, sampleMicroBatches(data, B, T, rng, accum)));
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
      optimizer: optimizer.name,
      gradAccum: accum,
    };
  });
  // The estimate for the same training choice (measured() sizes the default one).
  if (options.training === undefined) return result;
  return { ...result, estimate: estimate(spec.model, filled(spec.config), workload, { training: run }) };
}
