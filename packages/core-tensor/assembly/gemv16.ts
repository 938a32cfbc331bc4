// Decode GEMV over 16-bit float weights resident in linear memory (AssemblyScript, 128-bit SIMD):
// y[i, j] = Σ_q x[i, q]·W[j, q] with W [n, k] stored as IEEE half (FP16) or bfloat16 (BF16), two bytes
// per weight, widened to f32 in registers (no decoded copy). Four rows of W share each load of x.
// Not here: f32 or quantised weights (gemv-f32.ts, gemv.ts, gemv-nibble.ts).

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

// T selects the format at compile time (isSigned<T>() is a constant, so each instantiation keeps one
// decode): u16 → IEEE half, i16 → bfloat16.

// (binaryen inlines these small helpers at -O3.) A v128 of 8 weights read as i32x4 holds element 2L
// in the low and 2L+1 in the high half of lane L: shifting left by 16 (even elements) and masking the
// low half off (odd elements) puts each 16-bit value in the high half of a lane, where BF16 already is
// the f32, with no byte shuffle; x is split into its even and odd elements once per 8 columns instead.

/** Elements 0, 2, 4, 6 of the 8 in `h`, each in the high half of a lane (low half zero). */
function evens(h: v128): v128 {
  return i32x4.shl(h, 16);
}
/** Elements 1, 3, 5, 7 of the 8 in `h`, each in the high half of a lane. */
function odds(h: v128): v128 {
  return v128.and(h, i32x4.splat(<i32>0xffff0000));
}

/**
 * IEEE half bits in the high half of each lane → f32, exact for every half. An arithmetic shift by 3
 * puts exponent and mantissa where f32 keeps them ((h & 0x7fff) << 13, the sign copied to bits
 * 31..28); clearing bits 30..28 leaves the sign at bit 31. That pattern read as f32 is the half's
 * value · 2^-112 for normals and subnormals alike (zero stays zero), so one multiply by 2^112 decodes
 * both. Exponent 31 (±Inf, NaN) comes out as ±65536·(1 + m/1024), exponent field 143: OR-ing in
 * exponent 255 on exactly those lanes makes it ±Inf / NaN with the mantissa kept. Branch-free: a
 * per-tile test for special halves with a slow path measured 3× slower (register spills).
 */
function halfHigh(v: v128): v128 {
  const t = v128.and(i32x4.shr_s(v, 3), i32x4.splat(<i32>0x8fffffff));
  const f = f32x4.mul(t, f32x4.splat(5.192296858534828e33)); // 2^112
  const special = i32x4.eq(v128.and(t, i32x4.splat(0x0f800000)), i32x4.splat(0x0f800000));
  return v128.or(f, v128.and(special, i32x4.splat(0x7f800000)));
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

/** The four f32 of the even (`ev4`) or odd (`od4`) weights of the 8 in `h`. */
function ev4<T>(h: v128): v128 {
  return isSigned<T>() ? evens(h) : halfHigh(evens(h));
}
function od4<T>(h: v128): v128 {
  return isSigned<T>() ? odds(h) : halfHigh(odds(h));
}

/** x[0, 2, 4, 6] of the 8 floats in xa (0..3), xb (4..7). */
function xEven(xa: v128, xb: v128): v128 {
  return i8x16.shuffle(xa, xb, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
}
/** x[1, 3, 5, 7] of the 8 floats in xa, xb. */
function xOdd(xa: v128, xb: v128): v128 {
  return i8x16.shuffle(xa, xb, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
}

/**
 * 16-bit W [n, k] (`bf` 0: IEEE half, 1: bfloat16; row stride k): y[i·n + j] = Σ_q x[i·k + q]·W[j, q]
 * for j0 ≤ j < j1, any k. Four rows at a time share each load of x (split into even and odd elements).
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
        const xa = xEven(v128.load(xi + ((<usize>q) << 2)), v128.load(xi + ((<usize>q) << 2), 16));
        const xb = xOdd(v128.load(xi + ((<usize>q) << 2)), v128.load(xi + ((<usize>q) << 2), 16));
        const o = (<usize>q) << 1;
        const h0 = v128.load(w0 + o);
        const h1 = v128.load(w1 + o);
        const h2 = v128.load(w2 + o);
        const h3 = v128.load(w3 + o);
        a0 = f32x4.add(a0, f32x4.mul(xa, ev4<T>(h0)));
        b0 = f32x4.add(b0, f32x4.mul(xb, od4<T>(h0)));
        a1 = f32x4.add(a1, f32x4.mul(xa, ev4<T>(h1)));
        b1 = f32x4.add(b1, f32x4.mul(xb, od4<T>(h1)));
        a2 = f32x4.add(a2, f32x4.mul(xa, ev4<T>(h2)));
        b2 = f32x4.add(b2, f32x4.mul(xb, od4<T>(h2)));
        a3 = f32x4.add(a3, f32x4.mul(xa, ev4<T>(h3)));
        b3 = f32x4.add(b3, f32x4.mul(xb, od4<T>(h3)));
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
        const x0 = v128.load(xi + ((<usize>q) << 2));
        const x1 = v128.load(xi + ((<usize>q) << 2), 16);
        a = f32x4.add(a, f32x4.mul(xEven(x0, x1), ev4<T>(h)));
        b = f32x4.add(b, f32x4.mul(xOdd(x0, x1), od4<T>(h)));
      }
      let s = hsum(f32x4.add(a, b));
      for (; q < k; q++)
        s += load<f32>(xi + ((<usize>q) << 2)) * decode1<T>(<u32>load<u16>(wj + ((<usize>q) << 1)));
      store<f32>(y + ((<usize>(i * n + j)) << 2), s);
    }
  }
}
