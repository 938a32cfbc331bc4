/**
 * Reductions over one axis or all axes: sum, mean and max, each with its backward. Row-wise ops over
 * the last axis (softmax, norms) are in softmax.ts and norm.ts.
 */
import { record } from "../autograd.js";
import { getBackend } from "../backend.js";
import { alias, type Shape, shapeSize, type Tensor } from "../tensor.js";
import { f32, fullLike, normAxis, out } from "./common.js";

function reduceDims(x: Tensor, axis: number) {
  const a = normAxis(axis, x.rank, "reduce");
  const outer = shapeSize(x.shape.slice(0, a));
  const n = x.shape[a]!;
  const inner = shapeSize(x.shape.slice(a + 1));
  return { a, outer, n, inner };
}

function reducedShape(x: Tensor, a: number, keepDims: boolean): number[] {
  return keepDims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
}

/** Expand g [outer, inner] to [outer, n, inner] times `s`. */
function expandReduced(g: Tensor, shape: Shape, outer: number, n: number, inner: number, s: number): Tensor {
  const r = out(shape);
  const rd = r.data;
  const gd = g.data;
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < n; j++)
      for (let i = 0; i < inner; i++) rd[(o * n + j) * inner + i] = gd[o * inner + i]! * s;
  return r;
}

/** Sum over `axis` (all axes when omitted, giving a one-element tensor). */
export function sum(x: Tensor, axis?: number, keepDims = false): Tensor {
  return reduceOp("sum", x, axis, keepDims);
}

/** Mean over `axis` (all axes when omitted); `keepDims` keeps the reduced axis as size 1. */
export function mean(x: Tensor, axis?: number, keepDims = false): Tensor {
  return reduceOp("mean", x, axis, keepDims);
}

function reduceOp(op: "sum" | "mean", x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  f32(x, op);
  if (axis === undefined) {
    const flat = alias(x, [x.size]);
    const r = reduceOp(op, flat, 0, false);
    flat.dispose();
    const o = alias(r, keepDims ? x.shape.map(() => 1) : []);
    r.dispose();
    return record(o, op, [x], [], (g) => [fullLike(x.shape, g.data[0]! * (op === "mean" ? 1 / x.size : 1))]);
  }
  const { a, outer, n, inner } = reduceDims(x, axis);
  const o = out(reducedShape(x, a, keepDims));
  getBackend().reduce(op, x.data, outer, n, inner, o.data);
  return record(o, op, [x], [], (g) => [
    expandReduced(g, x.shape, outer, n, inner, op === "mean" ? 1 / n : 1),
  ]);
}

/** Maximum over `axis`; the gradient goes to the first maximal element. */
export function max(x: Tensor, axis: number, keepDims = false): Tensor {
  const { a, outer, n, inner } = reduceDims(x, axis);
  const xd = f32(x, "max");
  const o = out(reducedShape(x, a, keepDims));
  getBackend().reduce("max", xd, outer, n, inner, o.data);
  return record(o, "max", [x], [x, o], (g, [sx, so]) => {
    const r = out(x.shape);
    const rd = r.data;
    const xd = sx!.data;
    const od = so!.data;
    const gd = g.data;
    for (let oo = 0; oo < outer; oo++)
      for (let i = 0; i < inner; i++)
        for (let j = 0; j < n; j++) {
          const idx = (oo * n + j) * inner + i;
          if (xd[idx] === od[oo * inner + i]) {
            rd[idx] = gd[oo * inner + i]!;
            break;
          }
        }
    return [r];
  });
}
