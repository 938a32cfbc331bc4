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
 * 1792×1024 layer held in L3 34 → 59). From DRAM, where a big model's larger layers come from, the
 * eight-row pass is ~10% faster (more cache-line fills in flight).
 */
const CACHED_BYTES: i64 = 1 << 20;

/**
 * The rows [j0, j1) of `gemvF32`. With `eight`, eight rows of W share each load of x (then blocks of
 * four, then single rows); without it (a layer of at most CACHED_BYTES) blocks of four, then single
 * rows. Eight streams in flight keep more cache-line fills outstanding (at 4096×4096 on one
 * thread 8×4 beat 4×8, 4×16 and 2×16 by 10–25%, best of 40 runs). Each step reads eight floats of
 * each row: measured 2026-11-28 (m = 1, 4096×4096, one thread, 30 interleaved rounds, two runs at
 * load ≈ 4; median / best GB/s): 8×4 22.6 / 24.9, 8×8 24.6 / 27.3, 8×8 with relaxed_madd 25.5 /
 * 28.6, 8×4 with relaxed_madd 24.3 / 26.4, the bandwidth probe 29.6 / 31.3. Also tried (one run,
 * load ≈ 2.7, medians): 8×4 with independent row pointers 20.2 (8×4 20.3), one row of 64 floats
 * (a single sequential stream) 16.0, 4×16 15.2, 2×32 10.7.
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
  let j = j0;
  for (; eight && j + 7 < j1; j += 8) {
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
      // Eight floats of each of the eight rows per step (two x vectors, two chained multiply-adds).
      for (; q + 7 < k; q += 8) {
        const o = (<usize>q) << 2;
        const xv = v128.load(xi + o);
        const xw = v128.load(xi + o, 16);
        let p = w0 + o;
        a0 = madd(xw, v128.load(p, 16), madd(xv, v128.load(p), a0));
        p += rowBytes;
        a1 = madd(xw, v128.load(p, 16), madd(xv, v128.load(p), a1));
        p += rowBytes;
        a2 = madd(xw, v128.load(p, 16), madd(xv, v128.load(p), a2));
        p += rowBytes;
        a3 = madd(xw, v128.load(p, 16), madd(xv, v128.load(p), a3));
        p += rowBytes;
        a4 = madd(xw, v128.load(p, 16), madd(xv, v128.load(p), a4));
        p += rowBytes;
        a5 = madd(xw, v128.load(p, 16), madd(xv, v128.load(p), a5));
        p += rowBytes;
        a6 = madd(xw, v128.load(p, 16), madd(xv, v128.load(p), a6));
        p += rowBytes;
        a7 = madd(xw, v128.load(p, 16), madd(xv, v128.load(p), a7));
      }
      for (; q + 3 < k; q += 4) {
        const o = (<usize>q) << 2;
        const xv = v128.load(xi + o);
        let p = w0 + o;
        a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(p)));
        p += rowBytes;
        a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(p)));
        p += rowBytes;
        a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(p)));
        p += rowBytes;
        a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(p)));
        p += rowBytes;
        a4 = f32x4.add(a4, f32x4.mul(xv, v128.load(p)));
        p += rowBytes;
        a5 = f32x4.add(a5, f32x4.mul(xv, v128.load(p)));
        p += rowBytes;
        a6 = f32x4.add(a6, f32x4.mul(xv, v128.load(p)));
        p += rowBytes;
        a7 = f32x4.add(a7, f32x4.mul(xv, v128.load(p)));
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
        s1 += xv * load<f32>(p + rowBytes);
        s2 += xv * load<f32>(p + 2 * rowBytes);
        s3 += xv * load<f32>(p + 3 * rowBytes);
        s4 += xv * load<f32>(p + 4 * rowBytes);
        s5 += xv * load<f32>(p + 5 * rowBytes);
        s6 += xv * load<f32>(p + 6 * rowBytes);
        s7 += xv * load<f32>(p + 7 * rowBytes);
      }
      const yo = y + <usize>(i * ys + j) * 4;
      put(yo, s0, accumulate);
      put(yo + 4, s1, accumulate);
      put(yo + 8, s2, accumulate);
      put(yo + 12, s3, accumulate);
      put(yo + 16, s4, accumulate);
      put(yo + 20, s5, accumulate);
      put(yo + 24, s6, accumulate);
      put(yo + 28, s7, accumulate);
    }
  }
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
