// Decode GEMV over 16-bit float weights resident in linear memory (AssemblyScript, 128-bit SIMD):
// y[i, j] = Σ_q x[i, q]·W[j, q] with W [n, k] stored as IEEE half (FP16) or bfloat16 (BF16), two bytes
// per weight, widened to f32 in registers (no decoded copy). Not here: f32 or quantised weights
// (gemv-f32.ts, gemv.ts, gemv-nibble.ts).
import { nextRows, rowsEnd } from "./row-blocks";

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

// A v128 of 8 weights read as i32x4 holds element 2L in the low and 2L+1 in the high half of lane L.
// Both formats decode the even elements from `h << 16` and the odd ones from `h` with the low half
// dropped, so no byte shuffle touches W; x is split into its even and odd elements once per 8 columns
// and shared by every row of a block.

/** x[0, 2, 4, 6] of the 8 floats in xa (0..3), xb (4..7). */
function xEven(xa: v128, xb: v128): v128 {
  return i8x16.shuffle(xa, xb, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
}
/** x[1, 3, 5, 7] of the 8 floats in xa, xb. */
function xOdd(xa: v128, xb: v128): v128 {
  return i8x16.shuffle(xa, xb, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
}

/** Scalar decode of one 16-bit weight (row tails, rows holding Inf/NaN); exact for every bit pattern. */
function decode1(h: u32, bf: bool): f32 {
  if (bf) return reinterpret<f32>(h << 16);
  const sign = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (e === 0) {
    const v = <f32>mant * 5.9604644775390625e-8; // mant · 2^-24
    return sign !== 0 ? -v : v;
  }
  if (e === 31) return reinterpret<f32>(sign | 0x7f800000 | (mant << 13));
  return reinterpret<f32>(sign | ((e + 112) << 23) | (mant << 13));
}

/** Σ_{q0 ≤ q < k} x[q]·W[q] for one row, scalar (tails, and rows the SIMD path must not decode). */
function dotTail(xi: usize, wj: usize, q0: i32, k: i32, bf: bool): f32 {
  let s: f32 = 0;
  for (let q = q0; q < k; q++)
    s += load<f32>(xi + ((<usize>q) << 2)) * decode1(<u32>load<u16>(wj + ((<usize>q) << 1)), bf);
  return s;
}

/**
 * 16-bit W [n, k] (`bf` 0: IEEE half, 1: bfloat16; row stride k): y[i·n + j] = Σ_q x[i·k + q]·W[j, q]
 * for j0 ≤ j < j1 (in one go, or in blocks of `chunk` rows from the shared atomic `counter`:
 * row-blocks.ts), any k.
 */
export function gemvF16(
  m: i32,
  k: i32,
  x: usize,
  w: usize,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  bf: i32,
  counter: usize,
  chunk: i32,
): void {
  for (let a = nextRows(counter, chunk, j0, j1, -1); a < j1; a = nextRows(counter, chunk, j0, j1, a)) {
    const b = rowsEnd(counter, chunk, j1, a);
    if (bf !== 0) rowsBf16(m, k, x, w, y, n, a, b);
    else rowsF16(m, k, x, w, y, n, a, b);
  }
}

// ---- BF16 ----------------------------------------------------------------------------------------
// A bfloat16 is the top half of an f32: `h << 16` (even elements) and `h & 0xffff0000` (odd) are the
// f32 values, exact for every pattern (±Inf, NaN included). Eight rows share each split of x, one
// accumulator per row (a += xa·even + xb·odd): measured 1×4096×4096 in a standalone harness (kernel
// only, interleaved), 8 rows × 1 accumulator took 1.67 ms on 1 thread and 0.75 ms on 2 against 2.20
// and 1.10 ms for 4 rows × 2 accumulators (fewer x splits per weight, fewer registers live). The eight
// rows are eight bands (as the FP32 GEMV's, gemv-f32.ts `bands`), not eight neighbours: 2 threads, W
// cold, in-process interleaved medians of 35 calls, three runs, the same y bit for bit: 1×4096×4096
// 0.88–1.25 → 0.76–1.02 ms, 1×4096×11008 2.60–2.81 → 2.07–2.17 ms (2026-11-29).

/** One row's BF16 contribution of its 8 weights `h` against the split x (`xa` even, `xb` odd). */
function bfTerm(xa: v128, xb: v128, h: v128): v128 {
  return f32x4.add(f32x4.mul(xa, i32x4.shl(h, 16)), f32x4.mul(xb, v128.and(h, i32x4.splat(<i32>0xffff0000))));
}

function rowsBf16(m: i32, k: i32, x: usize, w: usize, y: usize, n: i32, j0: i32, j1: i32): void {
  const rowBytes = (<usize>k) << 1;
  const k8 = k & ~7;
  // eight bands of L consecutive rows, pass t reading row t of each (gemv-f32.ts `bands`: each band
  // one unbroken stream of W)
  const L = (j1 - j0) >> 3;
  const band = <usize>L * rowBytes;
  const yl = (<usize>L) << 2;
  for (let t = 0; t < L; t++) {
    const w0 = w + <usize>(j0 + t) * rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + ((<usize>(i * k)) << 2);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0);
      let a5 = f32x4.splat(0);
      let a6 = f32x4.splat(0);
      let a7 = f32x4.splat(0);
      for (let q = 0; q < k8; q += 8) {
        const x0 = v128.load(xi + ((<usize>q) << 2));
        const x1 = v128.load(xi + ((<usize>q) << 2), 16);
        const xa = xEven(x0, x1);
        const xb = xOdd(x0, x1);
        let p = w0 + ((<usize>q) << 1);
        a0 = f32x4.add(a0, bfTerm(xa, xb, v128.load(p)));
        p += band;
        a1 = f32x4.add(a1, bfTerm(xa, xb, v128.load(p)));
        p += band;
        a2 = f32x4.add(a2, bfTerm(xa, xb, v128.load(p)));
        p += band;
        a3 = f32x4.add(a3, bfTerm(xa, xb, v128.load(p)));
        p += band;
        a4 = f32x4.add(a4, bfTerm(xa, xb, v128.load(p)));
        p += band;
        a5 = f32x4.add(a5, bfTerm(xa, xb, v128.load(p)));
        p += band;
        a6 = f32x4.add(a6, bfTerm(xa, xb, v128.load(p)));
        p += band;
        a7 = f32x4.add(a7, bfTerm(xa, xb, v128.load(p)));
      }
      const yo = y + ((<usize>(i * n + j0 + t)) << 2);
      store<f32>(yo, hsum(a0) + dotTail(xi, w0, k8, k, true));
      store<f32>(yo + yl, hsum(a1) + dotTail(xi, w0 + band, k8, k, true));
      store<f32>(yo + 2 * yl, hsum(a2) + dotTail(xi, w0 + 2 * band, k8, k, true));
      store<f32>(yo + 3 * yl, hsum(a3) + dotTail(xi, w0 + 3 * band, k8, k, true));
      store<f32>(yo + 4 * yl, hsum(a4) + dotTail(xi, w0 + 4 * band, k8, k, true));
      store<f32>(yo + 5 * yl, hsum(a5) + dotTail(xi, w0 + 5 * band, k8, k, true));
      store<f32>(yo + 6 * yl, hsum(a6) + dotTail(xi, w0 + 6 * band, k8, k, true));
      store<f32>(yo + 7 * yl, hsum(a7) + dotTail(xi, w0 + 7 * band, k8, k, true));
    }
  }
  let j = j0 + 8 * L;
  for (; j < j1; j++) {
    const wj = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + ((<usize>(i * k)) << 2);
      let a = f32x4.splat(0);
      for (let q = 0; q < k8; q += 8) {
        const x0 = v128.load(xi + ((<usize>q) << 2));
        const x1 = v128.load(xi + ((<usize>q) << 2), 16);
        a = f32x4.add(a, bfTerm(xEven(x0, x1), xOdd(x0, x1), v128.load(wj + ((<usize>q) << 1))));
      }
      store<f32>(y + ((<usize>(i * n + j)) << 2), hsum(a) + dotTail(xi, wj, k8, k, true));
    }
  }
}

// ---- FP16 ----------------------------------------------------------------------------------------
// A half with its bits in the high half of a lane, shifted right by 3 (arithmetic) and masked with
// 0x8fffe000, is the f32 pattern sign | (h & 0x7fff) << 13: exactly the half's value · 2^-112 for
// normals and subnormals alike (zero stays zero). Instead of multiplying every weight by 2^112, x is
// scaled by 2^56 once per 8 columns (shared by the block's rows) and each row's sum by 2^56 at
// the end: powers of two, so every product and partial sum is the unscaled one
// times a power of two, rounded the same, as long as it stays a normal f32 (|x| < 2^72 and
// |w·x| ≥ 2^-70; outside that the error is below 2^-93 per product).
// Exponent 31 (±Inf, NaN) would come out finite (±2^16·(1 + m/1024)): each block keeps the unsigned
// max of its halves' magnitudes (two i16x8 ops per 8 weights) and, if one is ≥ 0x7c00, recomputes its
// rows with the exact scalar decode (such a row sums to ±Inf or NaN anyway; never taken for weights
// packed from finite values below 65520).
// Measured 1×4096×4096, N(0, 0.02²) weights, standalone harness, 1 thread: 3.8 ms against 5.5 ms for
// the previous decode (a multiply by 2^112 and an Inf/NaN select per lane); 3.2 ms without the Inf/NaN
// check. Four rows per block beat eight here (the decode needs more registers). The four rows are
// four bands (as rowsBf16's eight): 2 threads, W cold, in-process interleaved medians of 35 calls, three
// runs, the same y bit for bit: 1×4096×4096 1.39–1.42 → 1.12–1.15 ms, 1×4096×11008 3.44–3.58 →
// 2.96–3.02 ms (2026-11-29, weights near 1.0: no subnormal halves).
// Cost noted, not fixed: a subnormal half (|w| < 2^-14; ~0.25% of N(0, 0.02²) weights) is a denormal
// f32 pattern, and a multiply with a denormal operand takes a microcode assist on this machine's CPU
// (AMD family 26): the same data without subnormals ran 17–30% faster. Flagging exponent 0 lanes per
// 8 columns and adding them in scalar instead measured slower (the i16 compare and branch cost more).

const X_SCALE: f32 = 7.205759403792794e16; // 2^56
const SUM_SCALE: f32 = 7.205759403792794e16; // 2^(112 − 56)
/** Magnitude bits ≥ this are exponent 31 (±Inf, NaN). */
const SPECIAL: u32 = 0x7c00;

/** Even elements of the 8 halves in `h` as scaled f32 patterns (value · 2^-112). */
function halfEven(h: v128): v128 {
  return v128.and(i32x4.shr_s(i32x4.shl(h, 16), 3), i32x4.splat(<i32>0x8fffe000));
}
/** Odd elements of the 8 halves in `h` as scaled f32 patterns (the low half's bits masked off). */
function halfOdd(h: v128): v128 {
  return v128.and(i32x4.shr_s(h, 3), i32x4.splat(<i32>0x8fffe000));
}
/** One row's scaled FP16 contribution of the 8 halves `h` against the scaled, split x. */
function halfTerm(xa: v128, xb: v128, h: v128): v128 {
  return f32x4.add(f32x4.mul(xa, halfEven(h)), f32x4.mul(xb, halfOdd(h)));
}
/** The halves' magnitudes (sign cleared), for the running unsigned max that flags Inf/NaN. */
function mag(h: v128): v128 {
  return v128.and(h, i16x8.splat(0x7fff));
}
/** Largest lane of an i16x8 (unsigned). */
function maxLane(v: v128): u32 {
  v = i16x8.max_u(v, i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  v = i16x8.max_u(v, i8x16.shuffle(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11));
  v = i16x8.max_u(v, i8x16.shuffle(v, v, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
  return <u32>i16x8.extract_lane_u(v, 0);
}

function rowsF16(m: i32, k: i32, x: usize, w: usize, y: usize, n: i32, j0: i32, j1: i32): void {
  const rowBytes = (<usize>k) << 1;
  const k8 = k & ~7;
  const xs = f32x4.splat(X_SCALE);
  // four bands of L consecutive rows, pass t reading row t of each (as rowsBf16)
  const L = (j1 - j0) >> 2;
  const band = <usize>L * rowBytes;
  const yl = (<usize>L) << 2;
  for (let t = 0; t < L; t++) {
    const j = j0 + t;
    const w0 = w + <usize>j * rowBytes;
    const w1 = w0 + band;
    const w2 = w1 + band;
    const w3 = w2 + band;
    for (let i = 0; i < m; i++) {
      const xi = x + ((<usize>(i * k)) << 2);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let top = i16x8.splat(0);
      for (let q = 0; q < k8; q += 8) {
        const x0 = v128.load(xi + ((<usize>q) << 2));
        const x1 = v128.load(xi + ((<usize>q) << 2), 16);
        const xa = f32x4.mul(xEven(x0, x1), xs);
        const xb = f32x4.mul(xOdd(x0, x1), xs);
        const o = (<usize>q) << 1;
        const h0 = v128.load(w0 + o);
        const h1 = v128.load(w1 + o);
        const h2 = v128.load(w2 + o);
        const h3 = v128.load(w3 + o);
        top = i16x8.max_u(top, i16x8.max_u(i16x8.max_u(mag(h0), mag(h1)), i16x8.max_u(mag(h2), mag(h3))));
        a0 = f32x4.add(a0, halfTerm(xa, xb, h0));
        a1 = f32x4.add(a1, halfTerm(xa, xb, h1));
        a2 = f32x4.add(a2, halfTerm(xa, xb, h2));
        a3 = f32x4.add(a3, halfTerm(xa, xb, h3));
      }
      const yo = y + ((<usize>(i * n + j)) << 2);
      if (maxLane(top) >= SPECIAL) {
        for (let r = 0; r < 4; r++)
          store<f32>(yo + <usize>r * yl, dotTail(xi, w0 + <usize>r * band, 0, k, false));
        continue;
      }
      store<f32>(yo, hsum(a0) * SUM_SCALE + dotTail(xi, w0, k8, k, false));
      store<f32>(yo + yl, hsum(a1) * SUM_SCALE + dotTail(xi, w1, k8, k, false));
      store<f32>(yo + 2 * yl, hsum(a2) * SUM_SCALE + dotTail(xi, w2, k8, k, false));
      store<f32>(yo + 3 * yl, hsum(a3) * SUM_SCALE + dotTail(xi, w3, k8, k, false));
    }
  }
  let j = j0 + 4 * L;
  for (; j < j1; j++) {
    const wj = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + ((<usize>(i * k)) << 2);
      let a = f32x4.splat(0);
      let top = i16x8.splat(0);
      for (let q = 0; q < k8; q += 8) {
        const x0 = v128.load(xi + ((<usize>q) << 2));
        const x1 = v128.load(xi + ((<usize>q) << 2), 16);
        const h = v128.load(wj + ((<usize>q) << 1));
        top = i16x8.max_u(top, mag(h));
        a = f32x4.add(a, halfTerm(f32x4.mul(xEven(x0, x1), xs), f32x4.mul(xOdd(x0, x1), xs), h));
      }
      const yo = y + ((<usize>(i * n + j)) << 2);
      store<f32>(
        yo,
        maxLane(top) >= SPECIAL
          ? dotTail(xi, wj, 0, k, false)
          : hsum(a) * SUM_SCALE + dotTail(xi, wj, k8, k, false),
      );
    }
  }
}
