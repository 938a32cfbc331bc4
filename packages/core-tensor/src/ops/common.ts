/**
 * Guards and allocation shared by the op modules: the f32 input check, the output allocator (ledger
 * category `tmp` unless told otherwise) and axis normalisation. Internal: not exported by the package.
 */
import { DTypeError, ShapeError } from "../errors.js";
import { empty, type Shape, type Tensor, type TensorOptions } from "../tensor.js";

/** `t`'s f32 data, or a `DTypeError` naming the op and the dtype it got. Call before allocating. */
export function f32(t: Tensor, op: string): Float32Array {
  if (t.dtype !== "f32") {
    throw new DTypeError(`${op}: needs f32 input, got ${t.describe()}; convert with toF32()`, {
      op,
      dtype: t.dtype,
    });
  }
  return t.data;
}

/** A zeroed f32 output (category `tmp` unless `options` says otherwise). */
export function out(shape: Shape, options?: TensorOptions): Tensor {
  return empty(shape, { category: "tmp", ...options, dtype: "f32" });
}

/** An f32 output with every element `v`. */
export function fullLike(shape: Shape, v: number): Tensor {
  const t = out(shape);
  t.data.fill(v);
  return t;
}

/** `axis` (negative counts from the end) as an index in [0, rank), or a `ShapeError`. */
export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? rank + axis : axis;
  if (!(Number.isInteger(a) && a >= 0 && a < rank)) {
    throw new ShapeError(op, `axis ${axis} is out of range for rank ${rank}; use -${rank}..${rank - 1}`);
  }
  return a;
}

/** [rows, cols] of `x` viewed as rows over its last axis. */
export function rowsCols(x: Tensor): [number, number] {
  const cols = x.dim(-1);
  return [cols === 0 ? 0 : x.size / cols, cols];
}
