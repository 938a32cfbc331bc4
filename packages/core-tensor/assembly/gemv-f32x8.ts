// Decode GEMV over f32 weights in the tiled `f32x8` layout (AssemblyScript, 128-bit SIMD):
// y[i, j] = Σ_q x[i, q]·W[j, q], the same products as gemv-f32.ts over a layout made for reading W
// from DRAM as one stream while x stays in L1. The layout (src/f32x8.ts defines it; these constants
// mirror it): rows in blocks of BLOCK (64); inside a block, the columns in segments of SEG (256)
// floats; inside a segment, tiles of 8 rows; inside a tile, per 4 columns the 8 rows' 4 floats
// (32 floats, 128 bytes). Rows are padded with zeros to a multiple of 8, columns to a multiple of 4.
// Why: on the 2-core test machine (2026-11-28, 2 threads, 1×4096², W cold) the row-major kernel then
// read 35–39 GB/s against the probe's 45–56, while one W stream per block with x from a window of at
// most 1 KiB (one segment, reused by the block's 8 tiles) reached 0.87–0.91 of the probe. What held
// the row-major kernel was found later (2026-11-29): its eight neighbouring rows restarted eight W
// streams every pass. Read as eight bands of rows instead (gemv-f32.ts `bands`) it comes close: this
// layout then took 0.78–0.99 of FP32's time (`pnpm bench decode`, six runs of both shapes), against
// 0.71–0.77 before.
// Not here: the row-major f32 GEMV (gemv-f32.ts), packing into this layout (src/f32x8.ts).
import { nextRows, rowsEnd } from "./row-blocks";

const BLOCK: i32 = 64;
const SEG: i32 = 256;

/**
 * a·b + c: fused (one rounding) in the relaxed build (f32x4.relaxed_madd), a multiply then an add in
 * the default SIMD build.
 */
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** [Σ lanes of a, Σ b, Σ c, Σ d] (f32x4). */
function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<i64>(a, b, 0, 2), v128.shuffle<i64>(a, b, 1, 3));
  const cd = f32x4.add(v128.shuffle<i64>(c, d, 0, 2), v128.shuffle<i64>(c, d, 1, 3));
  return f32x4.add(v128.shuffle<i32>(ab, cd, 0, 2, 4, 6), v128.shuffle<i32>(ab, cd, 1, 3, 5, 7));
}

/** The f32 at byte yo + 4r (+)= lane r of v, for r < `rows` (all four: one vector store). */
function put4(yo: usize, v: v128, rows: i32, first: bool): void {
  if (rows >= 4) {
    v128.store(yo, first ? v : f32x4.add(v, v128.load(yo)));
    return;
  }
  for (let r = 0; r < rows; r++) {
    const at = yo + ((<usize>r) << 2);
    const s = f32x4.extract_lane(v, 0);
    store<f32>(at, first ? s : s + load<f32>(at));
    v = v128.shuffle<i32>(v, v, 1, 2, 3, 0);
  }
}

/**
 * Rows [a, b) of one block (a a multiple of BLOCK, b ≤ a + BLOCK, rows past n padding): for every
 * segment, every tile, every row i of x, the tile's 8 dots over the segment, added into y.
 */
function block(m: i32, k4: i32, x: usize, w: usize, y: usize, n: i32, a: i32, b: i32): void {
  const rb = (b - a + 7) & ~7; // rows of this block in the layout
  const base = w + ((<usize>a * <usize>k4) << 2);
  for (let s = 0; s < k4; s += SEG) {
    const len = min(SEG, k4 - s);
    const tileBytes = (<usize>len) << 5;
    let tile = base + ((<usize>s * <usize>rb) << 2);
    for (let j = a; j < b; j += 8) {
      const rows = min(8, n - j);
      for (let i = 0; i < m; i++) {
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        let a2 = f32x4.splat(0);
        let a3 = f32x4.splat(0);
        let a4 = f32x4.splat(0);
        let a5 = f32x4.splat(0);
        let a6 = f32x4.splat(0);
        let a7 = f32x4.splat(0);
        let xq = x + ((<usize>(i * k4 + s)) << 2);
        let p = tile;
        const end = tile + tileBytes;
        for (; p < end; p += 128) {
          const xv = v128.load(xq);
          a0 = madd(v128.load(p), xv, a0);
          a1 = madd(v128.load(p, 16), xv, a1);
          a2 = madd(v128.load(p, 32), xv, a2);
          a3 = madd(v128.load(p, 48), xv, a3);
          a4 = madd(v128.load(p, 64), xv, a4);
          a5 = madd(v128.load(p, 80), xv, a5);
          a6 = madd(v128.load(p, 96), xv, a6);
          a7 = madd(v128.load(p, 112), xv, a7);
          xq += 16;
        }
        const yo = y + ((<usize>(i * n + j)) << 2);
        put4(yo, sum4(a0, a1, a2, a3), rows, s === 0);
        if (rows > 4) put4(yo + 16, sum4(a4, a5, a6, a7), rows - 4, s === 0);
      }
      tile += tileBytes;
    }
  }
}

/**
 * f32 W [n, k] in the `f32x8` layout at `w`: y[i·n + j] = Σ_q x[i·k4 + q]·W[j, q] for rows j in
 * [j0, j1) and i < m, with x's rows k4 = k rounded up to 4 floats apart and zero past k. j0 and
 * `chunk` multiples of 64 (a block); the split as in row-blocks.ts (`counter` 0: this call does every
 * row of [j0, j1)).
 */
export function gemvF32x8(
  m: i32,
  k: i32,
  x: usize,
  w: usize,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  counter: usize,
  chunk: i32,
): void {
  const k4 = (k + 3) & ~3;
  for (let a = nextRows(counter, chunk, j0, j1, -1); a < j1; a = nextRows(counter, chunk, j0, j1, a)) {
    const e = rowsEnd(counter, chunk, j1, a);
    for (let r = a; r < e; r += BLOCK) block(m, k4, x, w, y, n, r, min(r + BLOCK, e));
  }
}
