/**
 * Row gathers and scatters by i32 ids: embedding lookup, gatherRows and scatterAddRows, each with its
 * backward (a gather's backward is a scatter-add, and the reverse).
 */
import { record } from "../autograd.js";
import { getBackend } from "../backend.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { alias, type Shape, type Tensor } from "../tensor.js";
import { f32, out } from "./common.js";
import { reshape } from "./layout.js";

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
