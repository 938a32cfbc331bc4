/**
 * Batched matrix product over the last two axes, forward and backward, on the active backend's
 * `matmul` kernel. The kernels themselves (naive oracle, blocked GEMM) are in kernels/matmul.ts.
 */
import { record } from "../autograd.js";
import { getBackend } from "../backend.js";
import { ShapeError } from "../errors.js";
import { shapeSize, type Tensor } from "../tensor.js";
import { f32, out } from "./common.js";

/** Options of `matmul`: transposes of either operand, and the ledger category of the output. */
export interface MatmulOptions {
  /** Use `a` transposed (its last two axes swapped). */
  readonly transA?: boolean;
  /** Use `b` transposed — `x @ Wᵀ` with W stored [out, in], as linear layers do. */
  readonly transB?: boolean;
  /** Ledger category of the output (default `tmp`). */
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
