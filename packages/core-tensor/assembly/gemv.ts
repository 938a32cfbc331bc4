// Decode GEMV / thin GEMM over weights resident in linear memory (AssemblyScript, 128-bit SIMD):
// y[i, j] = Σ_q x[i, q] · W[j, q] for rows j in [j0, j1) (a thread's share) and every i < m, reading
// W in its stored format with no decoded copy: f32 rows, or GGUF Q8_0 / Q4_0 blocks (a block's codes
// are widened to f32 in registers and scaled once per block). m is small (decode: 1–4 rows of x).
// Not here: the general GEMM (gemm.ts), other packed layouts (dequant.ts decodes those per row).
import { halfToFloat } from "./dequant";

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/** Eight i16 codes (one v128) times x[0..8): two f32x4 partial products added to `acc`. */
function madd8(acc: v128, q16: v128, x: usize): v128 {
  acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q16)), v128.load(x)));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q16)), v128.load(x, 16)));
}

/**
 * f32 W [n, k] (row stride `ws` floats): y[i·ys + j] (+)= Σ_q x[i·xs + q]·W[j, q]. Four rows of W
 * share each load of x; `accumulate` ≠ 0 adds to y.
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
): void {
  const rowBytes = (<usize>ws) << 2;
  let j = j0;
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

/**
 * GGUF Q8_0 W [n, k] (k/32 blocks of [f16 d, 32 × i8] per row, 34 B): y[i·n + j] = Σ_b d·Σ_t q·x.
 * k a multiple of 32; x [m, k] contiguous.
 */
export function gemvQ8_0(m: i32, k: i32, x: usize, w: usize, y: usize, n: i32, j0: i32, j1: i32): void {
  const rowBytes = <usize>((k >> 5) * 34);
  for (let j = j0; j < j1; j++) {
    const wj = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + <usize>(i * k) * 4;
      let acc = f32x4.splat(0);
      let b = wj;
      for (let q = 0; q < k; q += 32) {
        const d = f32x4.splat(halfToFloat(<u32>load<u16>(b)));
        const xq = xi + ((<usize>q) << 2);
        let s = f32x4.splat(0);
        s = madd8(s, v128.load8x8_s(b + 2), xq);
        s = madd8(s, v128.load8x8_s(b + 10), xq + 32);
        s = madd8(s, v128.load8x8_s(b + 18), xq + 64);
        s = madd8(s, v128.load8x8_s(b + 26), xq + 96);
        acc = f32x4.add(acc, f32x4.mul(d, s));
        b += 34;
      }
      store<f32>(y + <usize>(i * n + j) * 4, hsum(acc));
    }
  }
}

/**
 * GGUF Q4_0 W [n, k] (k/32 blocks of [f16 d, 16 B] per row, 18 B; byte t: element t low nibble,
 * t+16 high nibble; value d·(nibble − 8)): y[i·n + j] = Σ_q x[i, q]·W[j, q]. k a multiple of 32.
 */
export function gemvQ4_0(m: i32, k: i32, x: usize, w: usize, y: usize, n: i32, j0: i32, j1: i32): void {
  const rowBytes = <usize>((k >> 5) * 18);
  const mask = i8x16.splat(0x0f);
  const eight = i8x16.splat(8);
  for (let j = j0; j < j1; j++) {
    const wj = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xi = x + <usize>(i * k) * 4;
      let acc = f32x4.splat(0);
      let b = wj;
      for (let q = 0; q < k; q += 32) {
        const d = f32x4.splat(halfToFloat(<u32>load<u16>(b)));
        const bytes = v128.load(b + 2);
        const lo = i8x16.sub(v128.and(bytes, mask), eight); // elements 0..15
        const hi = i8x16.sub(i8x16.shr_u(bytes, 4), eight); // elements 16..31
        const xq = xi + ((<usize>q) << 2);
        let s = f32x4.splat(0);
        s = madd8(s, i16x8.extend_low_i8x16_s(lo), xq);
        s = madd8(s, i16x8.extend_high_i8x16_s(lo), xq + 32);
        s = madd8(s, i16x8.extend_low_i8x16_s(hi), xq + 64);
        s = madd8(s, i16x8.extend_high_i8x16_s(hi), xq + 96);
        acc = f32x4.add(acc, f32x4.mul(d, s));
        b += 18;
      }
      store<f32>(y + <usize>(i * n + j) * 4, hsum(acc));
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
