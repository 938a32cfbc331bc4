/**
 * Training and evaluation on byte text: seeded random windows for training batches, fixed evenly
 * spaced windows for validation, a warmup + cosine learning-rate schedule.
 */
import { backward, noGrad, type Rng, type Tensor, tensor } from "@tradeoffs/core-tensor";
import { AdamW, type AdamWOptions } from "./optimizer.js";
import type { Transformer } from "./transformer.js";

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

export interface TrainOptions extends AdamWOptions {
  readonly steps: number;
  readonly batch: number;
  readonly seq: number;
  readonly warmup?: number;
  /** Final learning rate as a fraction of the peak (cosine decay). */
  readonly minLrRatio?: number;
  readonly onStep?: (step: number, loss: number, ms: number) => void;
}

/**
 * One optimizer step on one batch: loss, backward, AdamW update (at `lr`, default the optimizer's),
 * gradients dropped. Disposes the batch; returns the loss before the update.
 */
export function trainStep(
  model: Transformer,
  opt: AdamW,
  batch: { ids: Tensor; targets: Tensor },
  lr?: number,
): number {
  // Exception-safe: whatever throws (an OutOfMemoryError in forward, backward or the update), the
  // batch, the graph's saved activations and the gradients are freed before the error propagates.
  try {
    const loss = model.loss(batch.ids, batch.targets);
    let value: number;
    try {
      value = loss.item();
      backward(loss);
    } finally {
      loss.dispose(); // drops whatever of the graph backward did not release
    }
    noGrad(() => opt.step(lr));
    return value;
  } finally {
    batch.ids.dispose();
    batch.targets.dispose();
    opt.zeroGrad();
  }
}

/** Train `model` on random windows of `data`; returns per-step losses and times. */
export function train(
  model: Transformer,
  data: Uint8Array,
  rng: Rng,
  options: TrainOptions,
): { losses: number[]; stepMs: number[] } {
  const opt = new AdamW(model.parameters(), options);
  const losses: number[] = [];
  const stepMs: number[] = [];
  const peak = options.lr ?? 1e-3;
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
      losses.push(trainStep(model, opt, sampleBatch(data, options.batch, options.seq, rng), lr));
      stepMs.push(performance.now() - t0);
      options.onStep?.(step, losses[losses.length - 1]!, stepMs[stepMs.length - 1]!);
    }
  } finally {
    opt.dispose();
  }
  return { losses, stepMs };
}
