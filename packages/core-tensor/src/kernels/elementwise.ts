/**
 * Elementwise kernels with NumPy broadcasting, and axis reductions. Shapes are plain arrays; outputs
 * are preallocated by the caller. Fast paths for equal shapes, scalars and trailing-row broadcasts.
 */
import { ShapeError } from "../errors.js";

/** Elementwise binary operations every backend implements. */
export type BinaryOp = "add" | "sub" | "mul" | "div" | "max" | "min";
/** Elementwise unary operations every backend implements. */
export type UnaryOp =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "rsqrt"
  | "square"
  | "abs"
  | "tanh"
  | "relu"
  | "silu"
  | "gelu"
  | "sigmoid";
/** Reductions over one axis every backend implements. */
export type ReduceOp = "sum" | "mean" | "max";

/** The broadcast result shape of two shapes (NumPy rules), or a ShapeError. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op = "broadcast"): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(op, `shapes [${a}] and [${b}] do not broadcast (axis ${i}: ${da} vs ${db})`, {
        a: [...a],
        b: [...b],
      });
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

function apply(op: BinaryOp, x: number, y: number): number {
  switch (op) {
    case "add":
      return x + y;
    case "sub":
      return x - y;
    case "mul":
      return x * y;
    case "div":
      return x / y;
    case "max":
      return x > y || Number.isNaN(x) ? x : y;
    case "min":
      return x < y || Number.isNaN(x) ? x : y;
  }
}

/** out = a ⊙ b with broadcasting; `out` has the broadcast shape. */
export function binary(
  op: BinaryOp,
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
  out: Float32Array,
): void {
  const shape = broadcastShapes(aShape, bShape, op);
  const n = out.length;
  if (a.length === n && b.length === n) {
    if (op === "add") for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
    else if (op === "mul") for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
    else if (op === "sub") for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
    else for (let i = 0; i < n; i++) out[i] = apply(op, a[i]!, b[i]!);
    return;
  }
  if (b.length === 1) {
    const y = b[0]!;
    for (let i = 0; i < n; i++) out[i] = apply(op, a[i]!, y);
    return;
  }
  if (a.length === 1) {
    const x = a[0]!;
    for (let i = 0; i < n; i++) out[i] = apply(op, x, b[i]!);
    return;
  }
  if (a.length === n && n % b.length === 0 && isTrailing(bShape, shape)) {
    const w = b.length;
    for (let i = 0; i < n; i += w) for (let j = 0; j < w; j++) out[i + j] = apply(op, a[i + j]!, b[j]!);
    return;
  }
  // One operand constant along the trailing axes ([N, 1] against [N, d]: a gate or scale per row):
  // each of its elements covers a run of r contiguous outputs.
  const rb = a.length === n ? leadingRun(bShape, shape) : 0;
  if (rb > 0) {
    perRun(op, a, b, rb, false, out, n);
    return;
  }
  const ra = b.length === n ? leadingRun(aShape, shape) : 0;
  if (ra > 0) {
    perRun(op, b, a, ra, true, out, n);
    return;
  }
  // General case: walk the output index with per-operand strides (0 on broadcast axes).
  const rank = shape.length;
  const sa = stridesFor(aShape, rank, shape);
  const sb = stridesFor(bShape, rank, shape);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < n; i++) {
    out[i] = apply(op, a[ia]!, b[ib]!);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      ia += sa[d]!;
      ib += sb[d]!;
      if (idx[d]! < shape[d]!) break;
      ia -= sa[d]! * shape[d]!;
      ib -= sb[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** True when `small`, without its leading 1s, equals the trailing dims of `big`. */
function isTrailing(small: readonly number[], big: readonly number[]): boolean {
  let first = 0;
  while (first < small.length && small[first] === 1) first++;
  const core = small.slice(first);
  if (core.length > big.length) return false;
  const off = big.length - core.length;
  return core.every((d, i) => d === big[off + i]);
}

/**
 * out[j] = full[j] op per[⌊j / run⌋] for j < n, or per[⌊j / run⌋] op full[j] when `perFirst`: one
 * operand constant along the trailing axes, each of its elements covering `run` contiguous outputs.
 */
function perRun(
  op: BinaryOp,
  full: Float32Array,
  per: Float32Array,
  run: number,
  perFirst: boolean,
  out: Float32Array,
  n: number,
): void {
  for (let i = 0, o = 0; o < n; i++, o += run) {
    const y = per[i]!;
    if (op === "mul") for (let j = o; j < o + run; j++) out[j] = full[j]! * y;
    else if (perFirst) for (let j = o; j < o + run; j++) out[j] = apply(op, y, full[j]!);
    else for (let j = o; j < o + run; j++) out[j] = apply(op, full[j]!, y);
  }
}

/**
 * r > 0 when `small` (aligned to `big` from the right, missing axes 1) equals `big` on its leading axes
 * and is 1 on every axis after them, which span r elements of `big` (r ≥ 2); else 0.
 */
export function leadingRun(small: readonly number[], big: readonly number[]): number {
  const off = big.length - small.length;
  if (off < 0) return 0;
  let p = big.length; // axes [p, rank) are 1 in `small`
  while (p > off && small[p - 1 - off] === 1) p--;
  for (let d = 0; d < p; d++) if ((d < off ? 1 : small[d - off]) !== big[d]) return 0;
  let r = 1;
  for (let d = p; d < big.length; d++) r *= big[d]!;
  return r >= 2 ? r : 0;
}

function stridesFor(shape: readonly number[], rank: number, out: readonly number[]): number[] {
  const s = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const dim = shape[shape.length - rank + d] ?? 1;
    s[d] = dim === 1 && out[d] !== 1 ? 0 : acc;
    acc *= dim;
  }
  return s;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation (as GPT-2). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

export function unary(op: UnaryOp, x: Float32Array, out: Float32Array): void {
  const n = x.length;
  switch (op) {
    case "neg":
      for (let i = 0; i < n; i++) out[i] = -x[i]!;
      return;
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!);
      return;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!);
      return;
    case "sqrt":
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!);
      return;
    case "rsqrt":
      for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(x[i]!);
      return;
    case "square":
      for (let i = 0; i < n; i++) out[i] = x[i]! * x[i]!;
      return;
    case "abs":
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]!);
      return;
    case "tanh":
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!);
      return;
    case "relu":
      for (let i = 0; i < n; i++) out[i] = Math.max(x[i]!, 0); // NaN propagates
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]!));
      return;
    case "silu":
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        out[i] = v / (1 + Math.exp(-v));
      }
      return;
    case "gelu":
      for (let i = 0; i < n; i++) out[i] = gelu(x[i]!);
      return;
  }
}

/** Reduce x viewed as [outer, n, inner] over the middle axis into out [outer, inner]. */
export function reduce(
  op: ReduceOp,
  x: Float32Array,
  outer: number,
  n: number,
  inner: number,
  out: Float32Array,
): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      if (op === "max") {
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < n; j++) {
          const v = x[base + j * inner]!;
          if (v > m || Number.isNaN(v)) m = v;
        }
        out[o * inner + i] = m;
      } else {
        let s = 0;
        for (let j = 0; j < n; j++) s += x[base + j * inner]!;
        out[o * inner + i] = op === "mean" ? s / n : s;
      }
    }
  }
}
