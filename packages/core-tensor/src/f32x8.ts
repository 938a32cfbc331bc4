/**
 * The `f32x8` weight layout: f32 W [n, k] reordered so that a decode GEMV reads it as one stream and
 * x from a window of at most 1 KiB (assembly/gemv-f32x8.ts; why, with figures, is there). Rows come
 * in blocks of 64; inside a block, columns in segments of 256; inside a segment, tiles of 8 rows;
 * inside a tile, per 4 columns the 8 rows' 4 floats. Rows are padded with zeros to a multiple of 8 and
 * columns to a multiple of 4, so the layout holds ⌈n/8⌉·8 · ⌈k/4⌉·4 floats.
 * Values are the f32s as given: decoding is exact, only the order of the sums changes.
 * Not here: the kernel (assembly/gemv-f32x8.ts), the weight format (quant's `FP32x8`).
 */

/** Rows per block (the kernel's unit of work per thread). */
export const F32X8_BLOCK_ROWS = 64;
/** Columns per segment (1 KiB of x). */
export const F32X8_SEGMENT = 256;

/** Floats of W [n, k] in the `f32x8` layout (padding included). */
export function f32x8Floats(n: number, k: number): number {
  return ((n + 7) & ~7) * ((k + 3) & ~3);
}

/** Index in the layout of W[j, q] for W [n, k]. */
export function f32x8Index(n: number, k: number, j: number, q: number): number {
  const k4 = (k + 3) & ~3;
  const a = j - (j % F32X8_BLOCK_ROWS); // first row of j's block
  const rows = Math.min(F32X8_BLOCK_ROWS, ((n + 7) & ~7) - a); // the block's rows in the layout
  const s = q - (q % F32X8_SEGMENT); // first column of q's segment
  const len = Math.min(F32X8_SEGMENT, k4 - s);
  const tile = (j - a) >> 3;
  return a * k4 + s * rows + tile * len * 8 + ((q - s) >> 2) * 32 + (j & 7) * 4 + (q & 3);
}

/**
 * Every run of the layout in order: `visit(o, j, q, count)` for the 4 floats at layout index o, which
 * hold W[j, q..q+3], of which the first `count` lie inside W (0 for a padding row; the rest are zeros).
 */
function eachRun(
  n: number,
  k: number,
  visit: (o: number, j: number, q: number, count: number) => void,
): void {
  const n8 = (n + 7) & ~7;
  const k4 = (k + 3) & ~3;
  let o = 0;
  for (let a = 0; a < n8; a += F32X8_BLOCK_ROWS) {
    const rows = Math.min(F32X8_BLOCK_ROWS, n8 - a);
    for (let s = 0; s < k4; s += F32X8_SEGMENT) {
      const len = Math.min(F32X8_SEGMENT, k4 - s);
      for (let t = a; t < a + rows; t += 8) {
        for (let q = s; q < s + len; q += 4) {
          for (let j = t; j < t + 8; j++, o += 4) visit(o, j, q, j < n ? Math.min(4, k - q) : 0);
        }
      }
    }
  }
}

/** Write W [n, k] (row-major, `w`) into `out` (≥ f32x8Floats(n, k) floats) in the `f32x8` layout. */
export function packF32x8(w: ArrayLike<number>, n: number, k: number, out: Float32Array): void {
  out.fill(0, 0, f32x8Floats(n, k));
  eachRun(n, k, (o, j, q, count) => {
    for (let l = 0; l < count; l++) out[o + l] = w[j * k + q + l]!;
  });
}

/** Rows [r0, r1) of W [n, k] from its `f32x8` layout `data` into `out`, row-major ((r1 − r0)·k floats). */
export function unpackF32x8Rows(
  data: Float32Array,
  n: number,
  k: number,
  r0: number,
  r1: number,
  out: Float32Array,
): void {
  for (let j = r0; j < r1; j++) {
    const o = (j - r0) * k;
    for (let s = 0; s < k; s += F32X8_SEGMENT) {
      // W[j, s..s+3] at `at`, the next 4 columns 32 floats further (the tile's other rows between)
      let at = f32x8Index(n, k, j, s);
      const end = Math.min(s + F32X8_SEGMENT, k);
      for (let q = s; q < end; q += 4, at += 32) {
        const c = Math.min(4, end - q);
        for (let l = 0; l < c; l++) out[o + q + l] = data[at + l]!;
      }
    }
  }
}

/**
 * The JS GEMV over the layout (the readable reference of assembly/gemv-f32x8.ts): y[yOff + j] =
 * Σ_q x[xOff + q]·W[j, q] for every row j of W [n, k], one pass over `data` in layout order.
 */
export function gemvF32x8Js(
  data: Float32Array,
  n: number,
  k: number,
  x: Float32Array,
  xOff: number,
  y: Float32Array,
  yOff: number,
): void {
  y.fill(0, yOff, yOff + n);
  eachRun(n, k, (o, j, q, count) => {
    let s = 0;
    for (let l = 0; l < count; l++) s += data[o + l]! * x[xOff + q + l]!;
    if (count > 0) y[yOff + j] = y[yOff + j]! + s;
  });
}
