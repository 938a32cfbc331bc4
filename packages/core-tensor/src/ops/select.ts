/**
 * Selection over the last axis: topk and argmax. They return indices, so they record no gradient;
 * routing (MoE) and sampling use them.
 */
import { getBackend } from "../backend.js";
import { ValueError } from "../errors.js";
import { empty, type Tensor } from "../tensor.js";
import { f32, out, rowsCols } from "./common.js";

/** The k largest entries of each row of the last axis: values (f32) and indices (i32), descending. */
export function topk(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const [rows, cols] = rowsCols(x);
  if (!(Number.isInteger(k) && k >= 1 && k <= cols)) {
    throw new ValueError(`topk: k must be an integer in [1, ${cols}], got ${k}`, { k, cols });
  }
  const shape = [...x.shape.slice(0, -1), k];
  const xd = f32(x, "topk");
  const values = out(shape);
  const indices = empty(shape, { dtype: "i32" });
  getBackend().topk(xd, rows, cols, k, values.data, indices.int32);
  return { values, indices };
}

/** Index of the largest entry of each row of the last axis (i32). */
export function argmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols(x);
  const xd = f32(x, "argmax");
  const o = empty(x.shape.slice(0, -1), { dtype: "i32" });
  getBackend().argmax(xd, rows, cols, o.int32);
  return o;
}
