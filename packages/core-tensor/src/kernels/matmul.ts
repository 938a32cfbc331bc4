/**
 * Matrix multiply kernels for the JS backend: the naive triple loop (the oracle) and a cache-blocked
 * GEMM with packed panels and a 4×4 register-tiled micro-kernel (the llm.c / BLIS shape). Operands are
 * addressed by row and column strides, so transposes cost nothing extra: they are absorbed by packing.
 */

/** C[b] (m×n) = op(A[b]) (m×k) · op(B[b]) (k×n), optionally accumulating into C. */
export interface MatmulArgs {
  /** Rows of op(A) and of C. */
  readonly m: number;
  /** Columns of op(B) and of C. */
  readonly n: number;
  /** Columns of op(A) = rows of op(B) (the summed dimension). */
  readonly k: number;
  /** Number of independent products; a batch stride of 0 broadcasts that operand. */
  readonly batch: number;
  /** A's elements (m×k, or k×m with `transA`). */
  readonly a: Float32Array;
  /** Index of A's first element in `a`. */
  readonly aOffset: number;
  /** Elements between consecutive A matrices (0: one A for every product). */
  readonly aBatchStride: number;
  /** A is stored k×m (row-major) and used transposed. */
  readonly transA: boolean;
  /** B's elements (k×n, or n×k with `transB`). */
  readonly b: Float32Array;
  /** Index of B's first element in `b`. */
  readonly bOffset: number;
  /** Elements between consecutive B matrices (0: one B for every product). */
  readonly bBatchStride: number;
  /** B is stored n×k (row-major) and used transposed — the `x @ Wᵀ` of a linear layer. */
  readonly transB: boolean;
  /** C's elements (m×n, row-major), written. */
  readonly c: Float32Array;
  /** Index of C's first element in `c`. */
  readonly cOffset: number;
  /** Elements between consecutive C matrices. */
  readonly cBatchStride: number;
  /** Add into C instead of overwriting it. */
  readonly accumulate?: boolean;
}

/**
 * Arguments for one plain product C (m×n) = A (m×k) · B (k×n) over whole arrays: no offsets, one
 * batch, no transposes unless `options` says otherwise.
 */
export function matmulArgs(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  options: Partial<Pick<MatmulArgs, "transA" | "transB" | "accumulate">> = {},
): MatmulArgs {
  return {
    m,
    n,
    k,
    batch: 1,
    a,
    aOffset: 0,
    aBatchStride: 0,
    transA: options.transA ?? false,
    b,
    bOffset: 0,
    bBatchStride: 0,
    transB: options.transB ?? false,
    c,
    cOffset: 0,
    cBatchStride: 0,
    ...(options.accumulate ? { accumulate: true } : {}),
  };
}

/** The oracle: one dot product per output element, f64 accumulation. */
export function matmulNaive(p: MatmulArgs): void {
  const { m, n, k } = p;
  for (let b = 0; b < p.batch; b++) {
    const ao = p.aOffset + b * p.aBatchStride;
    const bo = p.bOffset + b * p.bBatchStride;
    const co = p.cOffset + b * p.cBatchStride;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = p.transA ? p.a[ao + q * m + i]! : p.a[ao + i * k + q]!;
          const bv = p.transB ? p.b[bo + j * k + q]! : p.b[bo + q * n + j]!;
          s += av * bv;
        }
        p.c[co + i * n + j] = (p.accumulate ? p.c[co + i * n + j]! : 0) + s;
      }
    }
  }
}

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;
const NC = 1024;

// Packing buffers, grown on demand and reused (kernel workspace, not tensor storage).
let packA = new Float32Array(MC * KC);
let packB = new Float32Array(NC * KC);

/** Cache-blocked GEMM. Small-m products (decode GEMV) take a direct dot-product path. */
export function matmulBlocked(p: MatmulArgs): void {
  for (let b = 0; b < p.batch; b++) {
    const ao = p.aOffset + b * p.aBatchStride;
    const bo = p.bOffset + b * p.bBatchStride;
    const co = p.cOffset + b * p.cBatchStride;
    // A(i, q) = a[ao + i*rsA + q*csA]; B(q, j) = b[bo + q*rsB + j*csB]
    const rsA = p.transA ? 1 : p.k;
    const csA = p.transA ? p.m : 1;
    const rsB = p.transB ? 1 : p.n;
    const csB = p.transB ? p.k : 1;
    if (!p.accumulate) p.c.fill(0, co, co + p.m * p.n);
    if (p.m <= 2 || p.k < 8) gemmSmall(p.m, p.n, p.k, p.a, ao, rsA, csA, p.b, bo, rsB, csB, p.c, co);
    else gemm(p.m, p.n, p.k, p.a, ao, rsA, csA, p.b, bo, rsB, csB, p.c, co);
  }
}

/** C += A·B for few rows: each output is a strided dot product (contiguous when B is transposed). */
function gemmSmall(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  ao: number,
  rsA: number,
  csA: number,
  b: Float32Array,
  bo: number,
  rsB: number,
  csB: number,
  c: Float32Array,
  co: number,
): void {
  for (let i = 0; i < m; i++) {
    const ai = ao + i * rsA;
    if (csB !== 1 && rsB === 1 && csA === 1) {
      // B transposed: row j of the stored matrix is column j of B; both operands contiguous.
      for (let j = 0; j < n; j++) {
        const bj = bo + j * csB;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let q = 0;
        for (; q + 3 < k; q += 4) {
          s0 += a[ai + q]! * b[bj + q]!;
          s1 += a[ai + q + 1]! * b[bj + q + 1]!;
          s2 += a[ai + q + 2]! * b[bj + q + 2]!;
          s3 += a[ai + q + 3]! * b[bj + q + 3]!;
        }
        for (; q < k; q++) s0 += a[ai + q]! * b[bj + q]!;
        c[co + i * n + j] = c[co + i * n + j]! + (s0 + s1 + s2 + s3);
      }
    } else {
      // axpy over rows of B: C[i, :] += A[i, q] * B[q, :]
      const ci = co + i * n;
      for (let q = 0; q < k; q++) {
        const av = a[ai + q * csA]!;
        const bq = bo + q * rsB;
        if (csB === 1) for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + av * b[bq + j]!;
        else for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + av * b[bq + j * csB]!;
      }
    }
  }
}

function gemm(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  ao: number,
  rsA: number,
  csA: number,
  b: Float32Array,
  bo: number,
  rsB: number,
  csB: number,
  c: Float32Array,
  co: number,
): void {
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const nPanels = Math.ceil(nc / NR);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      if (packB.length < nPanels * NR * kc) packB = new Float32Array(nPanels * NR * kc);
      // Pack B(pc:pc+kc, jc:jc+nc) into NR-wide panels: panel jp holds kc rows of NR values.
      const pb = packB;
      for (let jp = 0; jp < nPanels; jp++) {
        const base = jp * NR * kc;
        const j0 = jc + jp * NR;
        const w = Math.min(NR, n - j0);
        for (let q = 0; q < kc; q++) {
          const src = bo + (pc + q) * rsB + j0 * csB;
          const dst = base + q * NR;
          for (let r = 0; r < NR; r++) pb[dst + r] = r < w ? b[src + r * csB]! : 0;
        }
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        const mPanels = Math.ceil(mc / MR);
        if (packA.length < mPanels * MR * kc) packA = new Float32Array(mPanels * MR * kc);
        const pa = packA;
        for (let ip = 0; ip < mPanels; ip++) {
          const base = ip * MR * kc;
          const i0 = ic + ip * MR;
          const h = Math.min(MR, m - i0);
          for (let q = 0; q < kc; q++) {
            const src = ao + i0 * rsA + (pc + q) * csA;
            const dst = base + q * MR;
            for (let r = 0; r < MR; r++) pa[dst + r] = r < h ? a[src + r * rsA]! : 0;
          }
        }
        for (let jp = 0; jp < nPanels; jp++) {
          const j0 = jc + jp * NR;
          const w = Math.min(NR, n - j0);
          for (let ip = 0; ip < mPanels; ip++) {
            const i0 = ic + ip * MR;
            const h = Math.min(MR, m - i0);
            micro4x4(kc, pa, ip * MR * kc, pb, jp * NR * kc, c, co + i0 * n + j0, n, h, w);
          }
        }
      }
    }
  }
}

/** 4×4 block of C += packed-A panel · packed-B panel, 16 accumulators kept in registers. */
function micro4x4(
  kc: number,
  pa: Float32Array,
  ai: number,
  pb: Float32Array,
  bi: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  h: number,
  w: number,
): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let q = 0; q < kc; q++) {
    const a0 = pa[ai]!;
    const a1 = pa[ai + 1]!;
    const a2 = pa[ai + 2]!;
    const a3 = pa[ai + 3]!;
    const b0 = pb[bi]!;
    const b1 = pb[bi + 1]!;
    const b2 = pb[bi + 2]!;
    const b3 = pb[bi + 3]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
    ai += 4;
    bi += 4;
  }
  if (h === 4 && w === 4) {
    c[ci] = c[ci]! + c00;
    c[ci + 1] = c[ci + 1]! + c01;
    c[ci + 2] = c[ci + 2]! + c02;
    c[ci + 3] = c[ci + 3]! + c03;
    ci += ldc;
    c[ci] = c[ci]! + c10;
    c[ci + 1] = c[ci + 1]! + c11;
    c[ci + 2] = c[ci + 2]! + c12;
    c[ci + 3] = c[ci + 3]! + c13;
    ci += ldc;
    c[ci] = c[ci]! + c20;
    c[ci + 1] = c[ci + 1]! + c21;
    c[ci + 2] = c[ci + 2]! + c22;
    c[ci + 3] = c[ci + 3]! + c23;
    ci += ldc;
    c[ci] = c[ci]! + c30;
    c[ci + 1] = c[ci + 1]! + c31;
    c[ci + 2] = c[ci + 2]! + c32;
    c[ci + 3] = c[ci + 3]! + c33;
    return;
  }
  const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < h; r++)
    for (let s = 0; s < w; s++) c[ci + r * ldc + s] = c[ci + r * ldc + s]! + acc[r * 4 + s]!;
}
