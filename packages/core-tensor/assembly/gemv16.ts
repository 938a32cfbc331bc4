// Decode GEMV over 16-bit float weights resident in linear memory (AssemblyScript, 128-bit SIMD):
// y[i, j] = Σ_q x[i, q]·W[j, q] with W [n, k] stored as IEEE half (FP16) or bfloat16 (BF16), two bytes
// per weight, widened to f32 in registers (no decoded copy). Four rows of W share each load of x.
// Not here: f32 or quantised weights (gemv.ts, gemv-nibble.ts).

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

// T selects the format at compile time (isSigned<T>() is a constant, so each instantiation keeps one
// decode): u16 → IEEE half, i16 → bfloat16.

// (binaryen inlines these small helpers at -O3.)
// Each 16-bit value moved into the high half of a 32-bit lane (low half zero): for BF16 that is the f32.
function highLo(h: v128): v128 {
  return i8x16.shuffle(i32x4.splat(0), h, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
}
function highHi(h: v128): v128 {
  return i8x16.shuffle(i32x4.splat(0), h, 0, 1, 24, 25, 2, 3, 26, 27, 4, 5, 28, 29, 6, 7, 30, 31);
}

/**
 * IEEE half bits in the high half of each lane → f32 for NORMAL halves (exponent 1..30). An arithmetic
 * shift by 3 puts exponent and mantissa where f32 keeps them ((h & 0x7fff) << 13, the sign copied to
 * bits 31..28); clearing bits 30..28 leaves the sign at bit 31; adding 112 to the exponent field
 * rebiases it (15 → 127). Integer arithmetic only: no subnormal f32 ever enters a multiply (x86 would
 * take a slow microcode assist for each). Zeros, subnormals, ±Inf and NaN go to `halfHighExact`.
 */
function halfHigh(v: v128): v128 {
  const t = v128.and(i32x4.shr_s(v, 3), i32x4.splat(<i32>0x8fffffff));
  return i32x4.add(t, i32x4.splat(112 << 23));
}

/**
 * Any half → f32, exact: the pattern of `halfHigh` before rebiasing, read as f32, is the half's value ·
 * 2^-112 for normals and subnormals alike, so one multiply by 2^112 decodes both; lanes with exponent
 * 31 (±Inf, NaN) take f32 exponent 255, mantissa kept.
 */
function halfHighExact(v: v128): v128 {
  const t = v128.and(i32x4.shr_s(v, 3), i32x4.splat(<i32>0x8fffffff));
  const f = f32x4.mul(t, f32x4.splat(5.192296858534828e33));
  const special = i32x4.eq(v128.and(t, i32x4.splat(0x0f800000)), i32x4.splat(0x0f800000));
  return v128.bitselect(v128.or(t, i32x4.splat(0x7f800000)), f, special);
}

/**
 * Whether any of the 8 halves in h0..h3 (32 weights) is not normal: exponent 0 (zero, subnormal) or
 * 31 (±Inf, NaN). (exponent bits − 0x0400) as u16 is ≥ 0x7800 exactly for those two.
 */
function anySpecial(h0: v128, h1: v128, h2: v128, h3: v128): bool {
  const e = i16x8.splat(0x7c00);
  const one = i16x8.splat(0x0400);
  const m = i16x8.max_u(
    i16x8.max_u(i16x8.sub(v128.and(h0, e), one), i16x8.sub(v128.and(h1, e), one)),
    i16x8.max_u(i16x8.sub(v128.and(h2, e), one), i16x8.sub(v128.and(h3, e), one)),
  );
  return v128.any_true(i16x8.ge_u(m, i16x8.splat(0x7800)));
}

/** Scalar decode of one 16-bit weight (the tail of a row); exact for every bit pattern. */
function decode1<T>(h: u32): f32 {
  if (isSigned<T>()) return reinterpret<f32>(h << 16);
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

/** The four f32 of 16-bit weights 0..3 (`lo4`) or 4..7 (`hi4`) of the 8 in `h`; FP16 `exact`: any half. */
function lo4<T>(h: v128, exact: bool): v128 {
  if (isSigned<T>()) return highLo(h);
  return exact ? halfHighExact(highLo(h)) : halfHigh(highLo(h));
}
function hi4<T>(h: v128, exact: bool): v128 {
  if (isSigned<T>()) return highHi(h);
  return exact ? halfHighExact(highHi(h)) : halfHigh(highHi(h));
}

/**
 * 16-bit W [n, k] (`bf` 0: IEEE half, 1: bfloat16; row stride k): y[i·n + j] = Σ_q x[i·k + q]·W[j, q]
 * for j0 ≤ j < j1, any k. Four rows at a time share each load of x. FP16 checks each 8×4 tile for
 * halves that are not normal (zero, subnormal, ±Inf, NaN) and decodes such a tile with `halfHighExact`.
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
): void {
  if (bf !== 0) rows16<i16>(m, k, x, w, y, n, j0, j1);
  else rows16<u16>(m, k, x, w, y, n, j0, j1);
}

function rows16<T>(m: i32, k: i32, x: usize, w: usize, y: usize, n: i32, j0: i32, j1: i32): void {
  const rowBytes = (<usize>k) << 1;
  let j = j0;
  for (; j + 3 < j1; j += 4) {
    const w0 = w + <usize>j * rowBytes;
    const w1 = w0 + rowBytes;
    const w2 = w1 + rowBytes;
    const w3 = w2 + rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + ((<usize>(i * k)) << 2);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      let b1 = f32x4.splat(0);
      let b2 = f32x4.splat(0);
      let b3 = f32x4.splat(0);
      let q = 0;
      for (; q + 7 < k; q += 8) {
        const xa = v128.load(xi + ((<usize>q) << 2));
        const xb = v128.load(xi + ((<usize>q) << 2), 16);
        const o = (<usize>q) << 1;
        const h0 = v128.load(w0 + o);
        const h1 = v128.load(w1 + o);
        const h2 = v128.load(w2 + o);
        const h3 = v128.load(w3 + o);
        if (!isSigned<T>() && anySpecial(h0, h1, h2, h3)) {
          a0 = f32x4.add(a0, f32x4.mul(xa, lo4<T>(h0, true)));
          b0 = f32x4.add(b0, f32x4.mul(xb, hi4<T>(h0, true)));
          a1 = f32x4.add(a1, f32x4.mul(xa, lo4<T>(h1, true)));
          b1 = f32x4.add(b1, f32x4.mul(xb, hi4<T>(h1, true)));
          a2 = f32x4.add(a2, f32x4.mul(xa, lo4<T>(h2, true)));
          b2 = f32x4.add(b2, f32x4.mul(xb, hi4<T>(h2, true)));
          a3 = f32x4.add(a3, f32x4.mul(xa, lo4<T>(h3, true)));
          b3 = f32x4.add(b3, f32x4.mul(xb, hi4<T>(h3, true)));
        } else {
          a0 = f32x4.add(a0, f32x4.mul(xa, lo4<T>(h0, false)));
          b0 = f32x4.add(b0, f32x4.mul(xb, hi4<T>(h0, false)));
          a1 = f32x4.add(a1, f32x4.mul(xa, lo4<T>(h1, false)));
          b1 = f32x4.add(b1, f32x4.mul(xb, hi4<T>(h1, false)));
          a2 = f32x4.add(a2, f32x4.mul(xa, lo4<T>(h2, false)));
          b2 = f32x4.add(b2, f32x4.mul(xb, hi4<T>(h2, false)));
          a3 = f32x4.add(a3, f32x4.mul(xa, lo4<T>(h3, false)));
          b3 = f32x4.add(b3, f32x4.mul(xb, hi4<T>(h3, false)));
        }
      }
      let s0 = hsum(f32x4.add(a0, b0));
      let s1 = hsum(f32x4.add(a1, b1));
      let s2 = hsum(f32x4.add(a2, b2));
      let s3 = hsum(f32x4.add(a3, b3));
      for (; q < k; q++) {
        const xv = load<f32>(xi + ((<usize>q) << 2));
        const o = (<usize>q) << 1;
        s0 += xv * decode1<T>(<u32>load<u16>(w0 + o));
        s1 += xv * decode1<T>(<u32>load<u16>(w1 + o));
        s2 += xv * decode1<T>(<u32>load<u16>(w2 + o));
        s3 += xv * decode1<T>(<u32>load<u16>(w3 + o));
      }
      const yo = y + ((<usize>(i * n + j)) << 2);
      store<f32>(yo, s0);
      store<f32>(yo, s1, 4);
      store<f32>(yo, s2, 8);
      store<f32>(yo, s3, 12);
    }
  }
  for (; j < j1; j++) {
    const wj = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + ((<usize>(i * k)) << 2);
      let a = f32x4.splat(0);
      let b = f32x4.splat(0);
      let q = 0;
      for (; q + 7 < k; q += 8) {
        const h = v128.load(wj + ((<usize>q) << 1));
        const exact = !isSigned<T>() && anySpecial(h, h, h, h);
        a = f32x4.add(a, f32x4.mul(v128.load(xi + ((<usize>q) << 2)), lo4<T>(h, exact)));
        b = f32x4.add(b, f32x4.mul(v128.load(xi + ((<usize>q) << 2), 16), hi4<T>(h, exact)));
      }
      let s = hsum(f32x4.add(a, b));
      for (; q < k; q++)
        s += load<f32>(xi + ((<usize>q) << 2)) * decode1<T>(<u32>load<u16>(wj + ((<usize>q) << 1)));
      store<f32>(y + ((<usize>(i * n + j)) << 2), s);
    }
  }
}
