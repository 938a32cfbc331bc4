/**
 * Softmax, log-softmax and the cross-entropy loss over the last axis, each with its backward
 * (cross-entropy's is softmax − one-hot). The row kernels are in kernels/rows.ts.
 */
import { record } from "../autograd.js";
import { getBackend } from "../backend.js";
import { DTypeError, ShapeError } from "../errors.js";
import type { Tensor } from "../tensor.js";
import { f32, out, rowsCols } from "./common.js";

/** Softmax over the last axis (max-subtracted). */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols(x);
  const xd = f32(x, "softmax");
  const o = out(x.shape);
  getBackend().softmax(xd, o.data, rows, cols, false);
  return record(o, "softmax", [x], [o], (g, [sy]) => {
    const r = out(x.shape);
    const y = sy!.data;
    const gd = g.data;
    const rd = r.data;
    for (let i = 0; i < rows; i++) {
      const b = i * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += gd[b + j]! * y[b + j]!;
      for (let j = 0; j < cols; j++) rd[b + j] = y[b + j]! * (gd[b + j]! - dot);
    }
    return [r];
  });
}

/** log(softmax(x)) over the last axis, computed as x − logsumexp(x). */
export function logSoftmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols(x);
  const xd = f32(x, "logSoftmax");
  const o = out(x.shape);
  getBackend().softmax(xd, o.data, rows, cols, true);
  return record(o, "logSoftmax", [x], [o], (g, [sy]) => {
    const r = out(x.shape);
    const y = sy!.data;
    const gd = g.data;
    const rd = r.data;
    for (let i = 0; i < rows; i++) {
      const b = i * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += gd[b + j]!;
      for (let j = 0; j < cols; j++) rd[b + j] = gd[b + j]! - Math.exp(y[b + j]!) * s;
    }
    return [r];
  });
}
/** Options of `crossEntropy()`. */
export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (and not counted in the mean). Default −1. */
  readonly ignoreIndex?: number;
}

/** Mean cross-entropy of logits [..., V] against i32 targets [...]; returns a one-element tensor. */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const [rows, cols] = rowsCols(logits);
  if (targets.dtype !== "i32")
    throw new DTypeError(`crossEntropy: targets must be i32, got ${targets.describe()}`);
  if (targets.size !== rows) {
    throw new ShapeError(
      "crossEntropy",
      `${targets.size} targets for ${rows} rows of logits [${logits.shape}]`,
    );
  }
  const ignore = options.ignoreIndex ?? -1;
  const losses = new Float32Array(rows);
  const count = getBackend().crossEntropy(
    f32(logits, "crossEntropy"),
    targets.int32,
    rows,
    cols,
    losses,
    ignore,
  );
  let total = 0;
  for (let i = 0; i < rows; i++) total += losses[i]!;
  const o = out([]);
  o.data[0] = count > 0 ? total / count : 0;
  return record(o, "crossEntropy", [logits], [logits, targets], (g, [sl, st]) => {
    const r = out(logits.shape);
    getBackend().softmax(sl!.data, r.data, rows, cols, false);
    const rd = r.data;
    const tv = st!.int32;
    const s = count > 0 ? g.data[0]! / count : 0;
    for (let i = 0; i < rows; i++) {
      const b = i * cols;
      if (tv[i] === ignore) {
        rd.fill(0, b, b + cols);
        continue;
      }
      rd[b + tv[i]!] = rd[b + tv[i]!]! - 1;
      for (let j = 0; j < cols; j++) rd[b + j] = rd[b + j]! * s;
    }
    return [r];
  });
}
