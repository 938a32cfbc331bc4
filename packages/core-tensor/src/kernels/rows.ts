/**
 * Row-wise kernels on [rows, cols] data: softmax / log-softmax (max-subtracted, numerically stable),
 * RMSNorm, LayerNorm, RoPE, embedding gather, cross-entropy, top-k and argmax.
 */
import { ValueError } from "../errors.js";

export function softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < cols; j++) if (x[o + j]! > m) m = x[o + j]!;
    if (m === Number.NEGATIVE_INFINITY) m = 0; // a fully masked row: exp(-inf) = 0 everywhere
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[o + j]! - m);
    if (log) {
      const lse = m + Math.log(s);
      for (let j = 0; j < cols; j++) out[o + j] = x[o + j]! - lse;
    } else {
      const inv = s > 0 ? 1 / s : 0;
      for (let j = 0; j < cols; j++) out[o + j] = Math.exp(x[o + j]! - m) * inv;
    }
  }
}

/** y = x / rms(x) · w; writes 1/rms per row into `rstd` when given (saved for backward). */
export function rmsNorm(
  x: Float32Array,
  w: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
  eps: number,
  rstd?: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let j = 0; j < cols; j++) ss += x[o + j]! * x[o + j]!;
    const inv = 1 / Math.sqrt(ss / cols + eps);
    if (rstd) rstd[r] = inv;
    for (let j = 0; j < cols; j++) out[o + j] = x[o + j]! * inv * w[j]!;
  }
}

/** Arguments of `rmsNormBackward`: the forward's x, w and 1/RMS per row, and the output gradient g. */
export interface RmsNormBackwardArgs {
  /** The forward's input [rows, cols]. */
  readonly x: Float32Array;
  /** The gain [cols]. */
  readonly w: Float32Array;
  /** 1/RMS of each row, as the forward wrote it. */
  readonly rstd: Float32Array;
  /** ∂L/∂y [rows, cols]. */
  readonly g: Float32Array;
  /** Rows of x. */
  readonly rows: number;
  /** Elements per row. */
  readonly cols: number;
  /** ∂L/∂x [rows, cols], written (null: not wanted). */
  readonly gx: Float32Array | null;
  /** ∂L/∂w [cols], accumulated into (null: not wanted). */
  readonly gw: Float32Array | null;
}

/**
 * RMSNorm's backward, in f64 per row: with r = 1/RMS and dot = Σ g·w·x, gx = r·g·w − x·r³·dot/cols,
 * and gw += g·x·r (rows in order).
 */
export function rmsNormBackward(a: RmsNormBackwardArgs): void {
  const { x, w, rstd, g, rows, cols, gx, gw } = a;
  for (let i = 0; i < rows; i++) {
    const b = i * cols;
    const r = rstd[i]!;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += g[b + j]! * w[j]! * x[b + j]!;
    if (gx) {
      const c = (r * r * r * dot) / cols;
      for (let j = 0; j < cols; j++) gx[b + j] = r * g[b + j]! * w[j]! - x[b + j]! * c;
    }
    if (gw) for (let j = 0; j < cols; j++) gw[j] = gw[j]! + g[b + j]! * x[b + j]! * r;
  }
}

/** y = (x − mean) / std · w + b; writes mean and 1/std per row when given. */
export function layerNorm(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
  eps: number,
  mean?: Float32Array,
  rstd?: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[o + j]!;
    const mu = s / cols;
    let v = 0;
    for (let j = 0; j < cols; j++) v += (x[o + j]! - mu) ** 2;
    const inv = 1 / Math.sqrt(v / cols + eps);
    if (mean) mean[r] = mu;
    if (rstd) rstd[r] = inv;
    for (let j = 0; j < cols; j++) out[o + j] = (x[o + j]! - mu) * inv * w[j]! + b[j]!;
  }
}

interface RopeTable {
  readonly positions: Float64Array;
  readonly theta: number;
  readonly D: number;
  readonly sign: number;
  readonly cos: Float64Array;
  readonly sin: Float64Array;
}
/** Tables of up to this many positions are kept for the next call. */
const ROPE_TABLE_KEEP = 1024;
/** The last table built: a decode step rotates q and k of every layer at the same positions. */
let lastRope: RopeTable | undefined;

/** cos and sign·sin of position · θ^(−2i/D) per (position, i < D/2); the last one is reused when equal. */
function ropeTable(positions: ArrayLike<number>, theta: number, D: number, sign: number): RopeTable {
  const n = positions.length;
  const t = lastRope;
  if (t && t.theta === theta && t.D === D && t.sign === sign && t.positions.length === n) {
    let same = true;
    for (let p = 0; p < n && same; p++) same = t.positions[p] === positions[p];
    if (same) return t;
  }
  const half = D >> 1;
  const cos = new Float64Array(n * half);
  const sin = new Float64Array(n * half);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < half; i++) {
      const ang = positions[p]! * theta ** (-(2 * i) / D);
      cos[p * half + i] = Math.cos(ang);
      sin[p * half + i] = sign * Math.sin(ang);
    }
  }
  const table = { positions: Float64Array.from(positions), theta, D, sign, cos, sin };
  lastRope = n <= ROPE_TABLE_KEEP ? table : undefined;
  return table;
}

/**
 * Rotary position embedding (half-split pairs, as in Hugging Face Llama) on x viewed as
 * [outer, T, D]. `positions` has T entries (shared) or (outer/group)·T entries (one row of T per
 * group of `outer / (positions.length / T)` consecutive outer rows, e.g. per sequence over heads).
 * `inverse` rotates by −θ (the backward pass).
 */
export function rope(
  x: Float32Array,
  out: Float32Array,
  outer: number,
  T: number,
  D: number,
  positions: ArrayLike<number>,
  theta: number,
  inverse: boolean,
): void {
  const half = D >> 1;
  const rowsOfPos = positions.length / T;
  const group = Math.max(1, outer / rowsOfPos);
  // cos/sin per (position row, frequency), computed once and reused across the outer rows.
  const { cos, sin } = ropeTable(positions, theta, D, inverse ? -1 : 1);
  for (let o = 0; o < outer; o++) {
    const pr = Math.floor(o / group) * T;
    for (let t = 0; t < T; t++) {
      const base = (o * T + t) * D;
      const cb = (pr + t) * half;
      for (let i = 0; i < half; i++) {
        const c = cos[cb + i]!;
        const s = sin[cb + i]!;
        const x1 = x[base + i]!;
        const x2 = x[base + i + half]!;
        out[base + i] = x1 * c - x2 * s;
        out[base + i + half] = x2 * c + x1 * s;
      }
    }
  }
}

/** out[i, :] = table[ids[i], :]; ids are validated against the table's row count. */
export function gather(
  table: Float32Array,
  rows: number,
  cols: number,
  ids: ArrayLike<number>,
  out: Float32Array,
): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < rows && Number.isInteger(id))) {
      throw new ValueError(`embedding: id ${id} at position ${i} is outside [0, ${rows})`, {
        id,
        position: i,
        rows,
      });
    }
    out.set(table.subarray(id * cols, id * cols + cols), i * cols);
  }
}

/**
 * Per-row cross-entropy −log softmax(logits)[target]; rows whose target is `ignoreIndex` get 0.
 * Returns the number of counted rows.
 */
export function crossEntropy(
  logits: Float32Array,
  targets: ArrayLike<number>,
  rows: number,
  cols: number,
  losses: Float32Array,
  ignoreIndex: number,
): number {
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) {
      losses[r] = 0;
      continue;
    }
    if (!(t >= 0 && t < cols)) {
      throw new ValueError(`crossEntropy: target ${t} at row ${r} is outside [0, ${cols})`, {
        target: t,
        row: r,
      });
    }
    const o = r * cols;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < cols; j++) if (logits[o + j]! > m) m = logits[o + j]!;
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(logits[o + j]! - m);
    losses[r] = m + Math.log(s) - logits[o + t]!;
    counted++;
  }
  return counted;
}

/** The k largest values per row (descending, ties by lower index) and their column indices. */
export function topk(
  x: Float32Array,
  rows: number,
  cols: number,
  k: number,
  values: Float32Array,
  indices: Int32Array,
): void {
  const order = new Array<number>(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) order[j] = j;
    if (k === 1) {
      let best = 0;
      for (let j = 1; j < cols; j++) if (x[o + j]! > x[o + best]!) best = j;
      values[r] = x[o + best]!;
      indices[r] = best;
      continue;
    }
    order.sort((a, b) => x[o + b]! - x[o + a]! || a - b);
    for (let j = 0; j < k; j++) {
      values[r * k + j] = x[o + order[j]!]!;
      indices[r * k + j] = order[j]!;
    }
  }
}

export function argmax(x: Float32Array, rows: number, cols: number, out: Int32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let best = 0;
    for (let j = 1; j < cols; j++) if (x[o + j]! > x[o + best]!) best = j;
    out[r] = best;
  }
}
