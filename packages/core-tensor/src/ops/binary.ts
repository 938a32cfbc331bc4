/**
 * Broadcasting binary ops (add, sub, mul, div) and their scalar forms (scale, addScalar), each with its
 * backward (a broadcast operand's gradient is summed back to its shape). Unary maps are in unary.ts.
 */
import { record } from "../autograd.js";
import { getBackend } from "../backend.js";
import type { BinaryOp } from "../kernels/elementwise.js";
import { broadcastShapes, leadingRun } from "../kernels/elementwise.js";
import { alias, type Shape, type Tensor } from "../tensor.js";
import { f32, out } from "./common.js";

/** Sum `g` (a broadcast shape) down to `shape`: the gradient of an operand that was broadcast. */
function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (g.shape.join() === shape.join()) return alias(g);
  const res = out(shape);
  const r = res.data;
  const gd = g.data;
  // [N, d] → [N, 1] (a per-row operand): each output sums one contiguous run, in the order (and with
  // the f32 rounding per add) of the general walk below.
  const run = leadingRun(shape, g.shape);
  if (run > 0) {
    for (let i = 0, o = 0; o < gd.length; i++, o += run) {
      let acc = 0;
      for (let j = o; j < o + run; j++) acc = Math.fround(acc + gd[j]!);
      r[i] = acc;
    }
    return res;
  }
  const rank = g.shape.length;
  const strides = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const dim = shape[shape.length - rank + d] ?? 1;
    strides[d] = dim === 1 ? 0 : acc;
    acc *= dim;
  }
  const idx = new Array<number>(rank).fill(0);
  let it = 0;
  for (let i = 0; i < gd.length; i++) {
    r[it] = r[it]! + gd[i]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      it += strides[d]!;
      if (idx[d]! < g.shape[d]!) break;
      it -= strides[d]! * g.shape[d]!;
      idx[d] = 0;
    }
  }
  return res;
}

function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const ad = f32(a, op);
  const bd = f32(b, op);
  const o = out(shape);
  getBackend().binary(op, ad, a.shape, bd, b.shape, o.data);
  return o;
}

/** a + b, broadcasting. */
export function add(a: Tensor, b: Tensor): Tensor {
  const o = binaryRaw("add", a, b);
  return record(o, "add", [a, b], [], (g) => [sumToShape(g, a.shape), sumToShape(g, b.shape)]);
}

/** a − b, broadcasting. */
export function sub(a: Tensor, b: Tensor): Tensor {
  const o = binaryRaw("sub", a, b);
  return record(o, "sub", [a, b], [], (g) => {
    const nb = sumToShape(g, b.shape);
    const neg = scaleRaw(nb, -1);
    nb.dispose();
    return [sumToShape(g, a.shape), neg];
  });
}

/** a · b elementwise, broadcasting. */
export function mul(a: Tensor, b: Tensor): Tensor {
  const o = binaryRaw("mul", a, b);
  return record(o, "mul", [a, b], [a, b], (g, [sa, sb]) => {
    const ga = a.requiresGrad ? reduced(binaryRaw("mul", g, sb!), a.shape) : null;
    const gb = b.requiresGrad ? reduced(binaryRaw("mul", g, sa!), b.shape) : null;
    return [ga, gb];
  });
}

/** a / b elementwise, broadcasting. */
export function div(a: Tensor, b: Tensor): Tensor {
  const o = binaryRaw("div", a, b);
  return record(o, "div", [a, b], [a, b], (g, [sa, sb]) => {
    const ga = a.requiresGrad ? reduced(binaryRaw("div", g, sb!), a.shape) : null;
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      // d(a/b)/db = −a/b²
      const t1 = binaryRaw("mul", g, sa!);
      const b2 = binaryRaw("mul", sb!, sb!);
      const t2 = binaryRaw("div", t1, b2);
      t1.dispose();
      b2.dispose();
      gb = reduced(scaleInPlace(t2, -1), b.shape);
    }
    return [ga, gb];
  });
}

function reduced(t: Tensor, shape: Shape): Tensor {
  if (t.shape.join() === shape.join()) return t;
  const r = sumToShape(t, shape);
  t.dispose();
  return r;
}

function scaleRaw(x: Tensor, s: number): Tensor {
  const xd = f32(x, "scale");
  const o = out(x.shape);
  const od = o.data;
  for (let i = 0; i < xd.length; i++) od[i] = xd[i]! * s;
  return o;
}

function scaleInPlace(x: Tensor, s: number): Tensor {
  const d = x.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i]! * s;
  return x;
}

/** x · s for a constant s. */
export function scale(x: Tensor, s: number): Tensor {
  const o = scaleRaw(x, s);
  return record(o, "scale", [x], [], (g) => [scaleRaw(g, s)]);
}

/** x + s for a constant s. */
export function addScalar(x: Tensor, s: number): Tensor {
  const xd = f32(x, "addScalar");
  const o = out(x.shape);
  const od = o.data;
  for (let i = 0; i < xd.length; i++) od[i] = xd[i]! + s;
  return record(o, "addScalar", [x], [], (g) => [alias(g)]);
}
