/**
 * Differentiable ops. Each op checks shapes and dtypes (typed errors naming both), allocates its
 * output through the ledger (`tmp` unless told otherwise), runs a backend kernel, and records its
 * backward when autograd is on. Gradients of every op are checked against finite differences.
 */
import { record } from "./autograd.js";
import { getBackend } from "./backend.js";
import { DTypeError, ShapeError, ValueError } from "./errors.js";
import type { BinaryOp, UnaryOp } from "./kernels/elementwise.js";
import { broadcastShapes, gelu as geluScalar } from "./kernels/elementwise.js";
import { alias, empty, type Shape, shapeSize, Tensor, type TensorOptions } from "./tensor.js";

function f32(t: Tensor, op: string): Float32Array {
  if (t.dtype !== "f32") {
    throw new DTypeError(`${op}: needs f32 input, got ${t.describe()}; convert with toF32()`, {
      op,
      dtype: t.dtype,
    });
  }
  return t.data;
}

function out(shape: Shape, options?: TensorOptions): Tensor {
  return empty(shape, { category: "tmp", ...options, dtype: "f32" });
}

function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? rank + axis : axis;
  if (!(Number.isInteger(a) && a >= 0 && a < rank)) {
    throw new ShapeError(op, `axis ${axis} is out of range for rank ${rank}; use -${rank}..${rank - 1}`);
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Broadcasting binary ops.

/** Sum `g` (a broadcast shape) down to `shape`. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (g.shape.join() === shape.join()) return alias(g);
  const res = out(shape);
  const r = res.data;
  const gd = g.data;
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

export function add(a: Tensor, b: Tensor): Tensor {
  const o = binaryRaw("add", a, b);
  return record(o, "add", [a, b], [], (g) => [sumToShape(g, a.shape), sumToShape(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  const o = binaryRaw("sub", a, b);
  return record(o, "sub", [a, b], [], (g) => {
    const nb = sumToShape(g, b.shape);
    const neg = scaleRaw(nb, -1);
    nb.dispose();
    return [sumToShape(g, a.shape), neg];
  });
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const o = binaryRaw("mul", a, b);
  return record(o, "mul", [a, b], [a, b], (g, [sa, sb]) => {
    const ga = a.requiresGrad ? reduced(binaryRaw("mul", g, sb!), a.shape) : null;
    const gb = b.requiresGrad ? reduced(binaryRaw("mul", g, sa!), b.shape) : null;
    return [ga, gb];
  });
}

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

// ---------------------------------------------------------------------------------------------
// Unary ops. `saves` says whether backward needs the input (x) or the output (y).

const unaryGrad: Record<UnaryOp, { saves: "x" | "y"; d: (x: number, y: number) => number }> = {
  neg: { saves: "x", d: () => -1 },
  exp: { saves: "y", d: (_x, y) => y },
  log: { saves: "x", d: (x) => 1 / x },
  sqrt: { saves: "y", d: (_x, y) => 0.5 / y },
  rsqrt: { saves: "y", d: (_x, y) => -0.5 * y * y * y },
  square: { saves: "x", d: (x) => 2 * x },
  abs: { saves: "x", d: (x) => Math.sign(x) },
  tanh: { saves: "y", d: (_x, y) => 1 - y * y },
  relu: { saves: "y", d: (_x, y) => (y > 0 ? 1 : 0) },
  sigmoid: { saves: "y", d: (_x, y) => y * (1 - y) },
  silu: {
    saves: "x",
    d: (x) => {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    },
  },
  gelu: {
    saves: "x",
    d: (x) => {
      const k = Math.sqrt(2 / Math.PI);
      const u = k * (x + 0.044715 * x * x * x);
      const t = Math.tanh(u);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
    },
  },
};

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  const xd = f32(x, op);
  const o = out(x.shape);
  getBackend().unary(op, xd, o.data);
  const spec = unaryGrad[op];
  return record(o, op, [x], [spec.saves === "x" ? x : o], (g, [s]) => {
    const r = out(x.shape);
    const gd = g.data;
    const sd = s!.data;
    const rd = r.data;
    if (spec.saves === "x") for (let i = 0; i < rd.length; i++) rd[i] = gd[i]! * spec.d(sd[i]!, 0);
    else for (let i = 0; i < rd.length; i++) rd[i] = gd[i]! * spec.d(0, sd[i]!);
    return [r];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp("neg", x);
export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
export const log = (x: Tensor): Tensor => unaryOp("log", x);
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);
export const rsqrt = (x: Tensor): Tensor => unaryOp("rsqrt", x);
export const square = (x: Tensor): Tensor => unaryOp("square", x);
export const abs = (x: Tensor): Tensor => unaryOp("abs", x);
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
export const silu = (x: Tensor): Tensor => unaryOp("silu", x);
export const gelu = (x: Tensor): Tensor => unaryOp("gelu", x);
export { geluScalar };

// ---------------------------------------------------------------------------------------------
// Matmul.

export interface MatmulOptions {
  /** Use `a` transposed (its last two axes swapped). */
  readonly transA?: boolean;
  /** Use `b` transposed — `x @ Wᵀ` with W stored [out, in], as linear layers do. */
  readonly transB?: boolean;
  readonly category?: string;
}

/**
 * Batched matrix product over the last two axes. Leading (batch) axes must match, or one operand
 * has none (it is broadcast without copying).
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError("matmul", `needs rank ≥ 2 operands, got [${a.shape}] and [${b.shape}]`);
  }
  const m = transA ? a.dim(-1) : a.dim(-2);
  const k = transA ? a.dim(-2) : a.dim(-1);
  const kb = transB ? b.dim(-1) : b.dim(-2);
  const n = transB ? b.dim(-2) : b.dim(-1);
  if (k !== kb) {
    throw new ShapeError(
      "matmul",
      `inner dimensions differ: [${a.shape}]${transA ? "ᵀ" : ""} · [${b.shape}]${transB ? "ᵀ" : ""} (${k} vs ${kb})`,
      { a: a.shape, b: b.shape, transA, transB },
    );
  }
  f32(a, "matmul");
  f32(b, "matmul");
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const nA = shapeSize(batchA);
  const nB = shapeSize(batchB);
  let batchShape: readonly number[];
  if (batchA.join() === batchB.join()) batchShape = batchA;
  else if (nB === 1 && batchB.every((d) => d === 1)) batchShape = batchA;
  else if (nA === 1 && batchA.every((d) => d === 1)) batchShape = batchB;
  else {
    throw new ShapeError(
      "matmul",
      `batch axes [${batchA}] and [${batchB}] must match or one must be absent`,
      {
        a: a.shape,
        b: b.shape,
      },
    );
  }
  const batch = shapeSize(batchShape);
  const o = out([...batchShape, m, n], options.category ? { category: options.category } : undefined);
  const aBatched = nA === batch && batch > 1;
  const bBatched = nB === batch && batch > 1;
  runMatmulInto(a, b, o, m, n, k, transA, transB, aBatched, bBatched, true, batch);
  // Save only what backward needs: `a` for b's gradient, `b` for a's (a frozen weight saves no input).
  const saveA = b.requiresGrad;
  const saveB = a.requiresGrad;
  const saved = [...(saveA ? [a] : []), ...(saveB ? [b] : [])];
  return record(o, "matmul", [a, b], saved, (g, s) => {
    const sa = saveA ? s[0] : undefined;
    const sb = saveB ? s[saveA ? 1 : 0] : undefined;
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    // The output gradient g is batched like o; each input's gradient is summed over the batches it
    // was broadcast across.
    if (a.requiresGrad) {
      ga = out(a.shape);
      if (!transA) runMatmulInto(g, sb!, ga, m, k, n, false, !transB, true, bBatched, aBatched, batch);
      else runMatmulInto(sb!, g, ga, k, m, n, transB, true, bBatched, true, aBatched, batch);
    }
    if (b.requiresGrad) {
      gb = out(b.shape);
      if (!transB) runMatmulInto(sa!, g, gb, k, n, m, !transA, false, aBatched, true, bBatched, batch);
      else runMatmulInto(g, sa!, gb, n, k, m, true, transA, true, aBatched, bBatched, batch);
    }
    return [ga, gb];
  });
}

/** c (m×n per batch) = op(x)·op(y); when c is not batched, products of all batches are summed into it. */
function runMatmulInto(
  x: Tensor,
  y: Tensor,
  c: Tensor,
  m: number,
  n: number,
  k: number,
  transX: boolean,
  transY: boolean,
  xBatched: boolean,
  yBatched: boolean,
  cBatched: boolean,
  batch: number,
): void {
  if (batch === 0 || m * n === 0) return; // nothing to compute; c is already zero
  if (!cBatched && batch > 1 && transX && xBatched && yBatched && !transY) {
    // Σ_b X[b]ᵀ·Y[b] with X rows folded: (batch·r)×m transposed times (batch·r)×n.
    getBackend().matmul({
      m,
      n,
      k: k * batch,
      batch: 1,
      a: x.storage.data as Float32Array,
      aOffset: x.offset,
      aBatchStride: 0,
      transA: true,
      b: y.storage.data as Float32Array,
      bOffset: y.offset,
      bBatchStride: 0,
      transB: false,
      c: c.storage.data as Float32Array,
      cOffset: c.offset,
      cBatchStride: 0,
    });
    return;
  }
  if (cBatched && xBatched && !yBatched && !transX) {
    getBackend().matmul({
      m: m * batch,
      n,
      k,
      batch: 1,
      a: x.storage.data as Float32Array,
      aOffset: x.offset,
      aBatchStride: 0,
      transA: false,
      b: y.storage.data as Float32Array,
      bOffset: y.offset,
      bBatchStride: 0,
      transB: transY,
      c: c.storage.data as Float32Array,
      cOffset: c.offset,
      cBatchStride: 0,
    });
    return;
  }
  getBackend().matmul({
    m,
    n,
    k,
    batch,
    a: x.storage.data as Float32Array,
    aOffset: x.offset,
    aBatchStride: xBatched ? m * k : 0,
    transA: transX,
    b: y.storage.data as Float32Array,
    bOffset: y.offset,
    bBatchStride: yBatched ? k * n : 0,
    transB: transY,
    c: c.storage.data as Float32Array,
    cOffset: c.offset,
    cBatchStride: cBatched ? m * n : 0,
    accumulate: !cBatched && batch > 1,
  });
}

// ---------------------------------------------------------------------------------------------
// Reductions.

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

function fullLike(shape: Shape, v: number): Tensor {
  const t = out(shape);
  t.data.fill(v);
  return t;
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

// ---------------------------------------------------------------------------------------------
// Row-wise ops over the last axis.

function rowsCols(x: Tensor): [number, number] {
  const cols = x.dim(-1);
  return [cols === 0 ? 0 : x.size / cols, cols];
}

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

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w. */
export function rmsNorm(x: Tensor, w: Tensor, eps = 1e-5): Tensor {
  const [rows, cols] = rowsCols(x);
  if (w.rank !== 1 || w.dim(0) !== cols) {
    throw new ShapeError("rmsNorm", `weight must be [${cols}] for input [${x.shape}], got [${w.shape}]`);
  }
  const xd = f32(x, "rmsNorm");
  const wd = f32(w, "rmsNorm");
  const o = out(x.shape);
  const rstd = out([rows]);
  getBackend().rmsNorm(xd, wd, o.data, rows, cols, eps, rstd.data);
  const res = record(o, "rmsNorm", [x, w], [x, w, rstd], (g, [sx, sw, sr]) => {
    const xd = sx!.data;
    const wd = sw!.data;
    const rs = sr!.data;
    const gd = g.data;
    const gx = x.requiresGrad ? out(x.shape) : null;
    const gw = w.requiresGrad ? out(w.shape) : null;
    for (let i = 0; i < rows; i++) {
      const b = i * cols;
      const r = rs[i]!;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += gd[b + j]! * wd[j]! * xd[b + j]!;
      if (gx) {
        const gxd = gx.data;
        const c = (r * r * r * dot) / cols;
        for (let j = 0; j < cols; j++) gxd[b + j] = r * gd[b + j]! * wd[j]! - xd[b + j]! * c;
      }
      if (gw) {
        const gwd = gw.data;
        for (let j = 0; j < cols; j++) gwd[j] = gwd[j]! + gd[b + j]! * xd[b + j]! * r;
      }
    }
    return [gx, gw];
  });
  rstd.dispose();
  return res;
}

/** LayerNorm over the last axis: (x − mean) / std · w + b. */
export function layerNorm(x: Tensor, w: Tensor, b: Tensor, eps = 1e-5): Tensor {
  const [rows, cols] = rowsCols(x);
  if (w.size !== cols || b.size !== cols) {
    throw new ShapeError("layerNorm", `weight and bias must be [${cols}], got [${w.shape}] and [${b.shape}]`);
  }
  const xd = f32(x, "layerNorm");
  const wd = f32(w, "layerNorm");
  const bd = f32(b, "layerNorm");
  const o = out(x.shape);
  const mu = out([rows]);
  const rstd = out([rows]);
  getBackend().layerNorm(xd, wd, bd, o.data, rows, cols, eps, mu.data, rstd.data);
  const res = record(o, "layerNorm", [x, w, b], [x, w, mu, rstd], (g, [sx, sw, sm, sr]) => {
    const xd = sx!.data;
    const wd = sw!.data;
    const md = sm!.data;
    const rs = sr!.data;
    const gd = g.data;
    const gx = x.requiresGrad ? out(x.shape) : null;
    const gw = w.requiresGrad ? out(w.shape) : null;
    const gb = b.requiresGrad ? out(b.shape) : null;
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      const r = rs[i]!;
      let sumD = 0;
      let sumDX = 0;
      for (let j = 0; j < cols; j++) {
        const xh = (xd[base + j]! - md[i]!) * r;
        const d = gd[base + j]! * wd[j]!;
        sumD += d;
        sumDX += d * xh;
        if (gw) gw.data[j] = gw.data[j]! + gd[base + j]! * xh;
        if (gb) gb.data[j] = gb.data[j]! + gd[base + j]!;
      }
      if (gx) {
        const gxd = gx.data;
        for (let j = 0; j < cols; j++) {
          const xh = (xd[base + j]! - md[i]!) * r;
          gxd[base + j] = r * (gd[base + j]! * wd[j]! - sumD / cols - (xh * sumDX) / cols);
        }
      }
    }
    return [gx, gw, gb];
  });
  mu.dispose();
  rstd.dispose();
  return res;
}

/**
 * Rotary position embedding on x shaped [..., T, D] (D even). `positions` gives T positions, or one
 * row of T per leading group (see the kernel). The rotation is orthogonal, so backward rotates back.
 */
export function rope(x: Tensor, positions: ArrayLike<number>, theta = 10000): Tensor {
  const T = x.dim(-2);
  const D = x.dim(-1);
  if (D % 2 !== 0) throw new ShapeError("rope", `head dimension must be even, got ${D}`);
  const outer = T * D === 0 ? 0 : x.size / (T * D);
  if (T > 0 && (positions.length % T !== 0 || outer % (positions.length / T) !== 0)) {
    throw new ShapeError("rope", `${positions.length} positions do not fit [${x.shape}]`, {
      positions: positions.length,
    });
  }
  const pos = Array.from(positions);
  const xd = f32(x, "rope");
  const o = out(x.shape);
  getBackend().rope(xd, o.data, outer, T, D, pos, theta, false);
  return record(o, "rope", [x], [], (g) => {
    const r = out(x.shape);
    getBackend().rope(g.data, r.data, outer, T, D, pos, theta, true);
    return [r];
  });
}

/** Rows of `table` [V, D] picked by integer `ids` (any shape) → [...ids.shape, D]. */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  if (ids.dtype !== "i32") throw new DTypeError(`embedding: ids must be i32, got ${ids.describe()}`);
  if (table.rank !== 2) throw new ShapeError("embedding", `table must be [rows, dim], got [${table.shape}]`);
  const [V, D] = table.shape as [number, number];
  const td = f32(table, "embedding");
  const o = out([...ids.shape, D]);
  try {
    getBackend().gather(td, V, D, ids.int32, o.data);
  } catch (e) {
    o.dispose();
    throw e;
  }
  return record(o, "embedding", [table], [ids], (g, [sids]) => {
    const r = out(table.shape);
    const rd = r.data;
    const gd = g.data;
    const idv = sids!.int32;
    for (let i = 0; i < idv.length; i++) {
      const row = idv[i]! * D;
      for (let j = 0; j < D; j++) rd[row + j] = rd[row + j]! + gd[i * D + j]!;
    }
    return [r];
  });
}

/** Rows of x (axis 0) picked by i32 `ids` → [ids.length, ...x.shape.slice(1)]. */
export function gatherRows(x: Tensor, ids: Tensor): Tensor {
  const rowSize = x.rank === 0 ? 1 : x.size / (x.dim(0) || 1);
  // reshape (not alias) so the gradient flows back to x.
  const flat = reshape(x, [x.dim(0), rowSize]);
  const o = embedding(flat, ids);
  flat.dispose();
  const res = reshape(o, [...ids.shape, ...x.shape.slice(1)]);
  o.dispose();
  return res;
}

/** base with `src` rows added at rows `ids` of axis 0 (repeats accumulate). */
export function scatterAddRows(base: Tensor, ids: Tensor, src: Tensor): Tensor {
  if (ids.dtype !== "i32") throw new DTypeError(`scatterAddRows: ids must be i32, got ${ids.describe()}`);
  const N = base.dim(0);
  const rowSize = N === 0 ? 0 : base.size / N;
  if (src.size !== ids.size * rowSize) {
    throw new ShapeError("scatterAddRows", `src [${src.shape}] must hold ${ids.size} rows of ${rowSize}`);
  }
  const bd = f32(base, "scatterAddRows");
  const sd = f32(src, "scatterAddRows");
  const idv = ids.int32;
  for (let i = 0; i < idv.length; i++) {
    const r = idv[i]!;
    if (!(r >= 0 && r < N)) {
      throw new ValueError(`scatterAddRows: id ${r} at ${i} is outside [0, ${N}); ids index rows of base`, {
        id: r,
        position: i,
        rows: N,
      });
    }
  }
  const o = out(base.shape);
  const od = o.data;
  od.set(bd);
  for (let i = 0; i < idv.length; i++) {
    const r = idv[i]!;
    for (let j = 0; j < rowSize; j++) od[r * rowSize + j] = od[r * rowSize + j]! + sd[i * rowSize + j]!;
  }
  return record(o, "scatterAddRows", [base, src], [ids], (g, [sids]) => {
    const gs = src.requiresGrad ? gatherRowsRaw(g, sids!, src.shape) : null;
    return [base.requiresGrad ? alias(g) : null, gs];
  });
}

function gatherRowsRaw(x: Tensor, ids: Tensor, shape: Shape): Tensor {
  const N = x.dim(0);
  const rowSize = N === 0 ? 0 : x.size / N;
  const xd = f32(x, "gatherRows");
  const o = out(shape);
  try {
    getBackend().gather(xd, N, rowSize, ids.int32, o.data);
  } catch (e) {
    o.dispose();
    throw e;
  }
  return o;
}

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

// ---------------------------------------------------------------------------------------------
// Layout: reshape (view), leading-axis views, transpose (copy), concat and slice (copies).

/** Same storage, new shape (one −1 is inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    const known = s.reduce((p, d, i) => (i === infer ? p : p * d), 1);
    s[infer] = known === 0 ? 0 : x.size / known;
  }
  if (shapeSize(s) !== x.size) {
    throw new ShapeError("reshape", `cannot reshape [${x.shape}] (${x.size} elements) to [${shape}]`);
  }
  const o = alias(x, s);
  return record(o, "reshape", [x], [], (g) => [alias(g, x.shape)]);
}

/** A view of rows [start, end) of the leading axis (shares storage). */
export function narrow(x: Tensor, start: number, end: number): Tensor {
  const n = x.dim(0);
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= n)) {
    throw new ShapeError("narrow", `range [${start}, ${end}) is outside [0, ${n}] for [${x.shape}]`);
  }
  const row = n === 0 ? 0 : x.size / n;
  const o = new Tensor(x.storage.retain(), [end - start, ...x.shape.slice(1)], x.offset + start * row);
  return record(o, "narrow", [x], [], (g) => {
    const r = out(x.shape);
    r.data.set(g.data, start * row);
    return [r];
  });
}

/** Permute axes (default: swap the last two). Always copies. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const rank = x.rank;
  const p = perm ? perm.map((a) => normAxis(a, rank, "transpose")) : [...Array(rank).keys()];
  if (!perm) {
    if (rank < 2) throw new ShapeError("transpose", `needs rank ≥ 2, got [${x.shape}]`);
    [p[rank - 2], p[rank - 1]] = [p[rank - 1]!, p[rank - 2]!];
  }
  if (p.length !== rank || new Set(p).size !== rank) {
    throw new ShapeError("transpose", `[${perm}] is not a permutation of ${rank} axes`);
  }
  const o = permuteRaw(x, p);
  const inv = new Array<number>(rank);
  for (let i = 0; i < rank; i++) inv[p[i]!] = i;
  return record(o, "transpose", [x], [], (g) => [permuteRaw(g, inv)]);
}

function permuteRaw(x: Tensor, p: readonly number[]): Tensor {
  const rank = x.rank;
  const shape = p.map((a) => x.shape[a]!);
  const src = f32(x, "transpose");
  const o = out(shape);
  const dst = o.data;
  const inStrides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStrides[d] = acc;
    acc *= x.shape[d]!;
  }
  const st = p.map((a) => inStrides[a]!);
  const idx = new Array<number>(rank).fill(0);
  let si = 0;
  // Innermost loop unrolled over the last output axis.
  const last = rank - 1;
  const lastN = shape[last] ?? 1;
  const lastS = st[last] ?? 0;
  const outer = lastN === 0 ? 0 : dst.length / lastN;
  let di = 0;
  for (let o2 = 0; o2 < outer; o2++) {
    for (let j = 0; j < lastN; j++) dst[di++] = src[si + j * lastS]!;
    for (let d = last - 1; d >= 0; d--) {
      idx[d]!++;
      si += st[d]!;
      if (idx[d]! < shape[d]!) break;
      si -= st[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return o;
}

/** Concatenate along `axis`. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ValueError("concat: needs at least one tensor");
  const first = xs[0]!;
  const a = normAxis(axis, first.rank, "concat");
  for (const t of xs) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError("concat", `shapes [${first.shape}] and [${t.shape}] differ outside axis ${a}`);
    }
    f32(t, "concat");
  }
  const outer = shapeSize(first.shape.slice(0, a));
  const inner = shapeSize(first.shape.slice(a + 1));
  const sizes = xs.map((t) => t.shape[a]!);
  const total = sizes.reduce((p, q) => p + q, 0);
  const shape = first.shape.map((d, i) => (i === a ? total : d));
  const o = out(shape);
  const od = o.data;
  let off = 0;
  for (const t of xs) {
    const td = f32(t, "concat");
    const w = t.shape[a]! * inner;
    for (let i = 0; i < outer; i++) od.set(td.subarray(i * w, i * w + w), i * total * inner + off * inner);
    off += t.shape[a]!;
  }
  return record(o, "concat", xs, [], (g) => {
    let start = 0;
    return xs.map((_t, k) => {
      const r = sliceRaw(g, a, start, start + sizes[k]!);
      start += sizes[k]!;
      return r;
    });
  });
}

/** Elements [start, end) along `axis` (a copy). */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = normAxis(axis, x.rank, "slice");
  const n = x.shape[a]!;
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= n)) {
    throw new ShapeError(
      "slice",
      `range [${start}, ${end}) is outside [0, ${n}] on axis ${a} of [${x.shape}]`,
    );
  }
  const o = sliceRaw(x, a, start, end);
  return record(o, "slice", [x], [], (g) => {
    const r = out(x.shape);
    const outer = shapeSize(x.shape.slice(0, a));
    const inner = shapeSize(x.shape.slice(a + 1));
    const w = (end - start) * inner;
    const rd = r.data;
    const gd = g.data;
    for (let i = 0; i < outer; i++) rd.set(gd.subarray(i * w, i * w + w), i * n * inner + start * inner);
    return [r];
  });
}

function sliceRaw(x: Tensor, a: number, start: number, end: number): Tensor {
  const shape = x.shape.map((d, i) => (i === a ? end - start : d));
  const xd = f32(x, "slice");
  const o = out(shape);
  const outer = shapeSize(x.shape.slice(0, a));
  const inner = shapeSize(x.shape.slice(a + 1));
  const n = x.shape[a]!;
  const w = (end - start) * inner;
  const od = o.data;
  for (let i = 0; i < outer; i++)
    od.set(xd.subarray(i * n * inner + start * inner, i * n * inner + start * inner + w), i * w);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Selection (no gradient).

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
