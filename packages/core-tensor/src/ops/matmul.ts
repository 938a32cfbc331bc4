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
  if (sameDims(batchA, batchB)) batchShape = batchA;
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
  runMatmulInto({
    x: a,
    y: b,
    c: o,
    m,
    n,
    k,
    batch,
    transX: transA,
    transY: transB,
    xBatched: aBatched,
    yBatched: bBatched,
    cBatched: true,
  });
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
      // d op(A) = g·op(B)ᵀ; a stored transposed gets that transposed, op(B)·gᵀ.
      if (!transA) {
        runMatmulInto({
          x: g,
          y: sb!,
          c: ga,
          m,
          n: k,
          k: n,
          batch,
          transX: false,
          transY: !transB,
          xBatched: true,
          yBatched: bBatched,
          cBatched: aBatched,
        });
      } else {
        runMatmulInto({
          x: sb!,
          y: g,
          c: ga,
          m: k,
          n: m,
          k: n,
          batch,
          transX: transB,
          transY: true,
          xBatched: bBatched,
          yBatched: true,
          cBatched: aBatched,
        });
      }
    }
    if (b.requiresGrad) {
      gb = out(b.shape);
      // d op(B) = op(A)ᵀ·g; b stored transposed gets that transposed, gᵀ·op(A).
      if (!transB) {
        runMatmulInto({
          x: sa!,
          y: g,
          c: gb,
          m: k,
          n,
          k: m,
          batch,
          transX: !transA,
          transY: false,
          xBatched: aBatched,
          yBatched: true,
          cBatched: bBatched,
        });
      } else {
        runMatmulInto({
          x: g,
          y: sa!,
          c: gb,
          m: n,
          n: k,
          k: m,
          batch,
          transX: true,
          transY: transA,
          xBatched: true,
          yBatched: aBatched,
          cBatched: bBatched,
        });
      }
    }
    return [ga, gb];
  });
}

/** Whether two shapes are equal (no string building: this runs for every product of a decode step). */
function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One product for `runMatmulInto`: c (m×n per batch) = op(x) (m×k) · op(y) (k×n) over `batch`
 * batches. Each operand is either batched (one matrix per batch, contiguous) or shared by all batches.
 */
interface MatmulIntoArgs {
  /** Left operand: m×k per matrix, stored k×m when `transX`. */
  readonly x: Tensor;
  /** Right operand: k×n per matrix, stored n×k when `transY`. */
  readonly y: Tensor;
  /** Output, zeroed by the caller: m×n per batch when `cBatched`, else one m×n matrix. */
  readonly c: Tensor;
  readonly m: number;
  readonly n: number;
  /** Inner dimension of one product. */
  readonly k: number;
  /** Number of products. */
  readonly batch: number;
  /** x is stored transposed. */
  readonly transX: boolean;
  /** y is stored transposed. */
  readonly transY: boolean;
  /** x holds one matrix per batch (false: one matrix broadcast over every batch). */
  readonly xBatched: boolean;
  /** y holds one matrix per batch (false: one matrix broadcast over every batch). */
  readonly yBatched: boolean;
  /**
   * c holds one result per batch. False: the products of all batches are summed into one matrix
   * (the gradient of an operand that was broadcast over the batch).
   */
  readonly cBatched: boolean;
}

/** Runs one `MatmulIntoArgs` product on the active backend, folding batches into rows where it can. */
function runMatmulInto(p: MatmulIntoArgs): void {
  const { x, y, c, m, n, k, batch, transX, transY, xBatched, yBatched, cBatched } = p;
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
