/**
 * Layout ops: reshape and narrow (views sharing storage), transpose, concat and slice (copies), each
 * with its backward. No arithmetic happens here.
 */
import { record } from "../autograd.js";
import { ShapeError, ValueError } from "../errors.js";
import { alias, type Shape, shapeSize, Tensor } from "../tensor.js";
import { f32, normAxis, out } from "./common.js";

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

/**
 * Permute axes (default: swap the last two). Copies, unless the permutation keeps the order of every
 * axis longer than 1 (it only moves unit axes: a decode step's [B, 1, H, D] → [B, H, 1, D]), where
 * the elements are already in the output order and the result is a `reshape` view.
 */
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
  let prev = -1;
  let inOrder = true;
  for (const a of p) {
    if (x.shape[a] === 1) continue;
    if (a < prev) {
      inOrder = false;
      break;
    }
    prev = a;
  }
  if (inOrder)
    return reshape(
      x,
      p.map((a) => x.shape[a]!),
    );
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
