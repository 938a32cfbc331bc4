// FP32 decode GEMV / thin GEMM over weights resident in linear memory (AssemblyScript, 128-bit SIMD):
// y[i, j] = Σ_q x[i, q] · W[j, q] for rows j in [j0, j1) (a thread's share) and every i < m, and the
// memory-bandwidth probe the decode bench holds it to. Not here: packed formats (gemv.ts,
// gemv-nibble.ts, gemv16.ts), the general GEMM (gemm.ts).
import { nextRows, rowsEnd } from "./row-blocks";

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/**
 * a·b + c: fused (one rounding) in the relaxed build (f32x4.relaxed_madd), a multiply then an add in
 * the default SIMD build.
 */
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** y[at] = s, or y[at] += s when `accumulate` ≠ 0. */
function put(yo: usize, s: f32, accumulate: i32): void {
  store<f32>(yo, accumulate ? s + load<f32>(yo) : s);
}

/**
 * f32 W [n, k] (row stride `ws` floats): y[i·ys + j] (+)= Σ_q x[i·xs + q]·W[j, q] for rows j in
 * [j0, j1); `accumulate` ≠ 0 adds to y.
 *
 * Static split (`counter` = 0): this call computes every row in [j0, j1). Dynamic split (`counter` ≠
 * 0, the byte address of an i32 the caller zeroed): every thread is handed the same [j0, j1) and takes
 * blocks of |chunk| rows in turn with an atomic add on the counter until none is left (from the front
 * for chunk > 0, from the back for chunk < 0: row-blocks.ts), so a thread that starts late (a helper
 * woken from sleep, or one the OS deschedules on a loaded machine) just does fewer blocks instead of
 * the other waiting for its fixed half. Each block is |chunk| consecutive rows: contiguous memory, as
 * in the static split.
 */
export function gemvF32(
  m: i32,
  k: i32,
  x: usize,
  xs: i32,
  w: usize,
  ws: i32,
  y: usize,
  ys: i32,
  j0: i32,
  j1: i32,
  accumulate: i32,
  counter: usize,
  chunk: i32,
): void {
  const eight = <i64>(j1 - j0) * <i64>k * 4 > CACHED_BYTES;
  for (let a = nextRows(counter, chunk, j0, j1, -1); a < j1; a = nextRows(counter, chunk, j0, j1, a))
    gemvRows(m, k, x, xs, w, ws, y, ys, a, rowsEnd(counter, chunk, j1, a), accumulate, eight);
}

/**
 * Bytes of W up to which `gemvF32` takes four rows per pass instead of eight. A layer this small is
 * read from cache (a model like `small` keeps all its weights there), where the kernel is
 * compute-bound and the four-row pass, with half the live registers, runs 1.3–1.75× faster
 * (standalone harness, 1 thread, 2000 calls per sample: 192×192 38 → 52 GB/s, 512×192 43 → 75; a
 * 1792×1024 layer held in L3 34 → 59). From DRAM, where a big model's larger layers come from, eight
 * rows per pass are faster (more cache-line fills in flight; in bands, `bands`).
 */
const CACHED_BYTES: i64 = 1 << 20;

/** acc + the 16 floats at `p` dotted with xa..xd: four chained multiply-adds, in order. */
function line(xa: v128, xb: v128, xc: v128, xd: v128, p: usize, acc: v128): v128 {
  return madd(
    xd,
    v128.load(p, 48),
    madd(xc, v128.load(p, 32), madd(xb, v128.load(p, 16), madd(xa, v128.load(p), acc))),
  );
}

/**
 * Rows j0 .. j0 + 8L − 1 of `gemvF32` (L = ⌊(j1 − j0) / 8⌋) as eight bands of L consecutive rows: pass
 * t computes row t of every band, eight rows sharing each load of x, sixteen floats (a cache line) of
 * each row per step. Returns the first row not computed (the caller does the rest).
 * Why bands: each of the eight rows a pass reads is a stream of W, and a stream that ends and restarts
 * elsewhere costs the hardware prefetcher its ramp-up. Eight adjacent rows (the kernel until 2026-11-29)
 * restart all eight streams every pass, every 16 KiB of a 4096-wide layer; in bands, band r's next row
 * starts where its last one ended, so each stream runs the band's whole length (L rows: 128 KiB in a
 * 1 MiB block of a 4096-wide layer, matmul.ts GEMV_CHUNK_BYTES). Measured 2026-11-29 (x and W
 * resident, W cold, 2 threads, dynamic split in 32-row blocks, in-process interleaved medians of 35
 * calls, two runs): 1×4096×4096 1.58–1.61 → 1.25 ms, 1×4096×11008 (n = 11008) 4.32–4.38 → 3.45–3.60,
 * 1×11008×4096 (k = 11008) 3.88–3.90 → 3.48–3.59, where FP32x8 (one stream, gemv-f32x8.ts) took
 * 1.29–1.36, 3.48–3.49 and 3.52–3.66. One row per pass (a single stream, x reloaded per W vector) was
 * as fast at k = 4096 but slower at k = 11008 (4.75 ms: x, 43 KiB, no longer stays in L1 between
 * rows); eight adjacent rows with rows padded off the 16 KiB power-of-two stride gained nothing.
 */
function bands(
  m: i32,
  k: i32,
  x: usize,
  xs: i32,
  w: usize,
  ws: i32,
  y: usize,
  ys: i32,
  j0: i32,
  j1: i32,
  accumulate: i32,
): i32 {
  const L = (j1 - j0) >> 3;
  const rowBytes = (<usize>ws) << 2;
  const band = <usize>L * rowBytes;
  for (let t = 0; t < L; t++) {
    const j = j0 + t;
    const w0 = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + <usize>(i * xs) * 4;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0);
      let a5 = f32x4.splat(0);
      let a6 = f32x4.splat(0);
      let a7 = f32x4.splat(0);
      let q = 0;
      for (; q + 15 < k; q += 16) {
        const o = (<usize>q) << 2;
        const xa = v128.load(xi + o);
        const xb = v128.load(xi + o, 16);
        const xc = v128.load(xi + o, 32);
        const xd = v128.load(xi + o, 48);
        let p = w0 + o;
        a0 = line(xa, xb, xc, xd, p, a0);
        p += band;
        a1 = line(xa, xb, xc, xd, p, a1);
        p += band;
        a2 = line(xa, xb, xc, xd, p, a2);
        p += band;
        a3 = line(xa, xb, xc, xd, p, a3);
        p += band;
        a4 = line(xa, xb, xc, xd, p, a4);
        p += band;
        a5 = line(xa, xb, xc, xd, p, a5);
        p += band;
        a6 = line(xa, xb, xc, xd, p, a6);
        p += band;
        a7 = line(xa, xb, xc, xd, p, a7);
      }
      for (; q + 3 < k; q += 4) {
        const o = (<usize>q) << 2;
        const xv = v128.load(xi + o);
        let p = w0 + o;
        a0 = madd(xv, v128.load(p), a0);
        p += band;
        a1 = madd(xv, v128.load(p), a1);
        p += band;
        a2 = madd(xv, v128.load(p), a2);
        p += band;
        a3 = madd(xv, v128.load(p), a3);
        p += band;
        a4 = madd(xv, v128.load(p), a4);
        p += band;
        a5 = madd(xv, v128.load(p), a5);
        p += band;
        a6 = madd(xv, v128.load(p), a6);
        p += band;
        a7 = madd(xv, v128.load(p), a7);
      }
      let s0 = hsum(a0);
      let s1 = hsum(a1);
      let s2 = hsum(a2);
      let s3 = hsum(a3);
      let s4 = hsum(a4);
      let s5 = hsum(a5);
      let s6 = hsum(a6);
      let s7 = hsum(a7);
      for (; q < k; q++) {
        const o = (<usize>q) << 2;
        const xv = load<f32>(xi + o);
        const p = w0 + o;
        s0 += xv * load<f32>(p);
        s1 += xv * load<f32>(p + band);
        s2 += xv * load<f32>(p + 2 * band);
        s3 += xv * load<f32>(p + 3 * band);
        s4 += xv * load<f32>(p + 4 * band);
        s5 += xv * load<f32>(p + 5 * band);
        s6 += xv * load<f32>(p + 6 * band);
        s7 += xv * load<f32>(p + 7 * band);
      }
      const yo = y + <usize>(i * ys + j) * 4;
      const yl = (<usize>L) << 2;
      put(yo, s0, accumulate);
      put(yo + yl, s1, accumulate);
      put(yo + 2 * yl, s2, accumulate);
      put(yo + 3 * yl, s3, accumulate);
      put(yo + 4 * yl, s4, accumulate);
      put(yo + 5 * yl, s5, accumulate);
      put(yo + 6 * yl, s6, accumulate);
      put(yo + 7 * yl, s7, accumulate);
    }
  }
  return j0 + 8 * L;
}

/**
 * The rows [j0, j1) of `gemvF32`. With `eight`, eight bands of rows (`bands`), then blocks of four,
 * then single rows; without it (a layer of at most CACHED_BYTES) blocks of four, then single rows.
 */
function gemvRows(
  m: i32,
  k: i32,
  x: usize,
  xs: i32,
  w: usize,
  ws: i32,
  y: usize,
  ys: i32,
  j0: i32,
  j1: i32,
  accumulate: i32,
  eight: bool,
): void {
  const rowBytes = (<usize>ws) << 2;
  let j = eight ? bands(m, k, x, xs, w, ws, y, ys, j0, j1, accumulate) : j0;
  for (; j + 3 < j1; j += 4) {
    const w0 = w + <usize>j * rowBytes;
    const w1 = w0 + rowBytes;
    const w2 = w1 + rowBytes;
    const w3 = w2 + rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + <usize>(i * xs) * 4;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let q = 0;
      // Eight floats of each of the four rows per step (two x vectors, two chained multiply-adds).
      for (; q + 7 < k; q += 8) {
        const o = (<usize>q) << 2;
        const xv = v128.load(xi + o);
        const xw = v128.load(xi + o, 16);
        a0 = madd(xw, v128.load(w0 + o, 16), madd(xv, v128.load(w0 + o), a0));
        a1 = madd(xw, v128.load(w1 + o, 16), madd(xv, v128.load(w1 + o), a1));
        a2 = madd(xw, v128.load(w2 + o, 16), madd(xv, v128.load(w2 + o), a2));
        a3 = madd(xw, v128.load(w3 + o, 16), madd(xv, v128.load(w3 + o), a3));
      }
      for (; q + 3 < k; q += 4) {
        const o = (<usize>q) << 2;
        const xv = v128.load(xi + o);
        a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(w0 + o)));
        a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(w1 + o)));
        a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(w2 + o)));
        a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(w3 + o)));
      }
      let s0 = hsum(a0);
      let s1 = hsum(a1);
      let s2 = hsum(a2);
      let s3 = hsum(a3);
      for (; q < k; q++) {
        const o = (<usize>q) << 2;
        const xv = load<f32>(xi + o);
        s0 += xv * load<f32>(w0 + o);
        s1 += xv * load<f32>(w1 + o);
        s2 += xv * load<f32>(w2 + o);
        s3 += xv * load<f32>(w3 + o);
      }
      const yo = y + <usize>(i * ys + j) * 4;
      if (accumulate) {
        s0 += load<f32>(yo);
        s1 += load<f32>(yo, 4);
        s2 += load<f32>(yo, 8);
        s3 += load<f32>(yo, 12);
      }
      store<f32>(yo, s0);
      store<f32>(yo, s1, 4);
      store<f32>(yo, s2, 8);
      store<f32>(yo, s3, 12);
    }
  }
  for (; j < j1; j++) {
    const wj = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + <usize>(i * xs) * 4;
      let a = f32x4.splat(0);
      let q = 0;
      for (; q + 3 < k; q += 4)
        a = f32x4.add(a, f32x4.mul(v128.load(xi + ((<usize>q) << 2)), v128.load(wj + ((<usize>q) << 2))));
      let s = hsum(a);
      for (; q < k; q++) s += load<f32>(xi + ((<usize>q) << 2)) * load<f32>(wj + ((<usize>q) << 2));
      const yo = y + <usize>(i * ys + j) * 4;
      store<f32>(yo, accumulate ? s + load<f32>(yo) : s);
    }
  }
}

/** Σ of `bytes` bytes from `p` as u32 words (a memory-bandwidth probe; the sum defeats elimination). */
export function readSum(p: usize, bytes: i32): u32 {
  let a = i32x4.splat(0);
  let b = i32x4.splat(0);
  let c = i32x4.splat(0);
  let d = i32x4.splat(0);
  const end = p + <usize>bytes;
  for (; p + 63 < end; p += 64) {
    a = i32x4.add(a, v128.load(p));
    b = i32x4.add(b, v128.load(p, 16));
    c = i32x4.add(c, v128.load(p, 32));
    d = i32x4.add(d, v128.load(p, 48));
  }
  const s = i32x4.add(i32x4.add(a, b), i32x4.add(c, d));
  return <u32>(
    (i32x4.extract_lane(s, 0) +
      i32x4.extract_lane(s, 1) +
      i32x4.extract_lane(s, 2) +
      i32x4.extract_lane(s, 3))
  );
}
