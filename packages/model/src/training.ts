/**
 * Training and evaluation on byte text: seeded random windows for training batches, fixed evenly
 * spaced windows for validation, a warmup + cosine learning-rate schedule, and optimizer steps over
 * one batch or N accumulated micro-batches. Not here: the optimizers (optim/).
 */
import { backward, noGrad, type Rng, type Tensor, tensor, ValueError } from "@tradeoffs/core-tensor";
import type { AdamWOptions } from "./optim/adamw.js";
import type { Optimizer } from "./optim/optimizer.js";
import { OPTIMIZERS } from "./optim/registry.js";
import {
  checkTrainingChoice,
  createTrainingOptimizer,
  type TrainingChoice,
} from "./optim/training-choice.js";
import type { Transformer } from "./transformer.js";

/** One batch of token windows: ids and next-token targets, both i32 [B, T]. */
export interface Batch {
  /** Input token ids [B, T]. */
  readonly ids: Tensor;
  /** The next token of each position [B, T]. */
  readonly targets: Tensor;
}

/** B windows of T+1 bytes at random offsets: ids are the first T, targets the last T. */
export function sampleBatch(
  data: Uint8Array,
  batch: number,
  seq: number,
  rng: Rng,
): { ids: Tensor; targets: Tensor } {
  const ids = new Int32Array(batch * seq);
  const targets = new Int32Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    const start = rng.int(data.length - seq - 1);
    for (let t = 0; t < seq; t++) {
      ids[b * seq + t] = data[start + t]!;
      targets[b * seq + t] = data[start + t + 1]!;
    }
  }
  const idsT = tensor(ids, [batch, seq], { dtype: "i32" });
  try {
    return { ids: idsT, targets: tensor(targets, [batch, seq], { dtype: "i32" }) };
  } catch (e) {
    idsT.dispose();
    throw e;
  }
}

/** Windows k·stride for k = 0..count−1 (deterministic), batched. */
export function fixedBatches(
  data: Uint8Array,
  count: number,
  batch: number,
  seq: number,
): { ids: Tensor; targets: Tensor }[] {
  const out: { ids: Tensor; targets: Tensor }[] = [];
  const stride = Math.floor((data.length - seq - 1) / (count * batch));
  for (let c = 0; c < count; c++) {
    const ids = new Int32Array(batch * seq);
    const targets = new Int32Array(batch * seq);
    for (let b = 0; b < batch; b++) {
      const start = (c * batch + b) * stride;
      for (let t = 0; t < seq; t++) {
        ids[b * seq + t] = data[start + t]!;
        targets[b * seq + t] = data[start + t + 1]!;
      }
    }
    out.push({
      ids: tensor(ids, [batch, seq], { dtype: "i32" }),
      targets: tensor(targets, [batch, seq], { dtype: "i32" }),
    });
  }
  return out;
}

/** Mean cross-entropy (nats per byte) over `batches` fixed validation windows. */
export function evaluate(
  model: Transformer,
  data: Uint8Array,
  options: { batches?: number; batch?: number; seq?: number } = {},
): number {
  const batches = fixedBatches(data, options.batches ?? 8, options.batch ?? 8, options.seq ?? 128);
  let total = 0;
  for (const { ids, targets } of batches) {
    const l = noGrad(() => model.loss(ids, targets));
    total += l.item();
    l.dispose();
    ids.dispose();
    targets.dispose();
  }
  return total / batches.length;
}

/**
 * Options of `train`: sizes, schedule and the training choice. Without `optimizer`, AdamW with the
 * AdamW fields given here (`lr`, `beta1`, ...).
 */
export interface TrainOptions extends AdamWOptions, TrainingChoice {
  /** Optimizer steps. */
  readonly steps: number;
  /** Windows per step. */
  readonly batch: number;
  /** Tokens per window. */
  readonly seq: number;
  /** Steps of linear learning-rate warmup; default min(20, steps / 10). */
  readonly warmup?: number;
  /** Final learning rate as a fraction of the peak (cosine decay). */
  readonly minLrRatio?: number;
  /** Called after each step with its index, loss and time in ms. */
  readonly onStep?: (step: number, loss: number, ms: number) => void;
}

/**
 * One optimizer step (at `lr`, default the optimizer's) on one batch, or on N micro-batches whose
 * gradients accumulate in place (`grad` bytes stay those of one set) and are then averaged, so N
 * micro-batches of B/N step like one batch of B. Disposes the batches and drops the gradients;
 * returns the mean loss before the update.
 */
export function trainStep(
  model: Transformer,
  opt: Optimizer,
  batch: Batch | readonly Batch[],
  lr?: number,
): number {
  const batches: readonly Batch[] = Array.isArray(batch) ? batch : [batch as Batch];
  // Exception-safe: whatever throws (an OutOfMemoryError in forward, backward or the update), the
  // batches, the graph's saved activations and the gradients are freed before the error propagates.
  try {
    if (batches.length === 0)
      throw new ValueError("trainStep: no batches; pass one batch or N micro-batches");
    let total = 0;
    for (const b of batches) {
      const loss = model.loss(b.ids, b.targets);
      try {
        total += loss.item();
        backward(loss); // accumulates into each parameter's .grad
      } finally {
        loss.dispose(); // drops whatever of the graph backward did not release
      }
    }
    if (batches.length > 1) {
      const inv = 1 / batches.length;
      for (const p of opt.params) {
        if (!p.grad) continue;
        const g = p.grad.data;
        for (let j = 0; j < g.length; j++) g[j] = g[j]! * inv;
      }
    }
    noGrad(() => opt.step(lr));
    return total / batches.length;
  } finally {
    for (const b of batches) {
      b.ids.dispose();
      b.targets.dispose();
    }
    opt.zeroGrad();
  }
}

/** N micro-batches of batch/N windows: the same windows, in order, as one `sampleBatch` of `batch`. */
export function sampleMicroBatches(
  data: Uint8Array,
  batch: number,
  seq: number,
  rng: Rng,
  micro: number,
): Batch[] {
  if (!(Number.isInteger(micro) && micro >= 1 && batch % micro === 0))
    throw new ValueError(
      `gradient accumulation ${micro} must be a positive integer dividing the batch ${batch}`,
      { batch, micro },
    );
  const out: Batch[] = [];
  try {
    for (let i = 0; i < micro; i++) out.push(sampleBatch(data, batch / micro, seq, rng));
  } catch (e) {
    for (const b of out) {
      b.ids.dispose();
      b.targets.dispose();
    }
    throw e;
  }
  return out;
}

/** Train `model` on random windows of `data`; returns per-step losses and times. */
export function train(
  model: Transformer,
  data: Uint8Array,
  rng: Rng,
  options: TrainOptions,
): { losses: number[]; stepMs: number[] } {
  checkTrainingChoice(options, options.batch);
  const opt = createTrainingOptimizer(model.parameters(), {
    ...options,
    optimizer: options.optimizer ?? { ...options, name: "adamw" },
  });
  const accum = options.gradAccum ?? 1;
  const losses: number[] = [];
  const stepMs: number[] = [];
  const peak =
    options.lr ?? options.optimizer?.lr ?? OPTIMIZERS[options.optimizer?.name ?? "adamw"].defaultLr;
  const warmup = options.warmup ?? Math.min(20, Math.floor(options.steps / 10));
  const minRatio = options.minLrRatio ?? 0.1;
  try {
    for (let step = 0; step < options.steps; step++) {
      const t0 = performance.now();
      const progress = Math.max(0, step - warmup) / Math.max(1, options.steps - warmup);
      const lr =
        step < warmup
          ? (peak * (step + 1)) / warmup
          : peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
      losses.push(
        trainStep(model, opt, sampleMicroBatches(data, options.batch, options.seq, rng, accum), lr),
      );
      stepMs.push(performance.now() - t0);
      options.onStep?.(step, losses[losses.length - 1]!, stepMs[stepMs.length - 1]!);
    }
  } finally {
    opt.dispose();
  }
  return { losses, stepMs };
}
