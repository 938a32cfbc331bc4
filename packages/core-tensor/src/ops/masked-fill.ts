/**
 * maskedFill: replace the elements a broadcast u8 mask selects with a constant; the gradient is zero
 * there and passes through elsewhere. Attention masks are built with it.
 */
import { record } from "../autograd.js";
import { getBackend } from "../backend.js";
import { DTypeError, ShapeError } from "../errors.js";
import { broadcastShapes } from "../kernels/elementwise.js";
import type { Tensor } from "../tensor.js";
import { f32, fullLike, out } from "./common.js";

/** Fill positions where `mask` (u8, broadcastable to x) is non-zero with `value`. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  if (mask.dtype !== "u8") throw new DTypeError(`maskedFill: mask must be u8, got ${mask.describe()}`);
  const xd = f32(x, "maskedFill");
  const shape = broadcastShapes(x.shape, mask.shape, "maskedFill");
  if (shape.join() !== x.shape.join()) {
    throw new ShapeError(
      "maskedFill",
      `mask [${mask.shape}] must broadcast to x [${x.shape}] without growing it`,
    );
  }
  // The mask broadcast to x's shape as f32 0/1 (saved for backward).
  const mf = out(mask.shape);
  mf.data.set(mask.values);
  const ones = fullLike(x.shape, 1);
  const fillMask = out(x.shape);
  getBackend().binary("mul", ones.data, x.shape, mf.data, mf.shape, fillMask.data);
  ones.dispose();
  mf.dispose();
  const o = out(x.shape);
  const od = o.data;
  const km = fillMask.data;
  for (let i = 0; i < od.length; i++) od[i] = km[i]! !== 0 ? value : xd[i]!;
  const res = record(o, "maskedFill", [x], [fillMask], (g, [sk]) => {
    const r = out(x.shape);
    const rd = r.data;
    const gd = g.data;
    const k = sk!.data;
    for (let i = 0; i < rd.length; i++) rd[i] = k[i]! !== 0 ? 0 : gd[i]!;
    return [r];
  });
  fillMask.dispose();
  return res;
}
