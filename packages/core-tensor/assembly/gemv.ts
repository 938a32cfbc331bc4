// Decode GEMV / thin GEMM over packed weights resident in linear memory (AssemblyScript, 128-bit
// SIMD): y[i, j] = Σ_q x[i, q] · W[j, q] for rows j in [j0, j1) (a thread's share) and every i < m,
// reading W in its stored format with no decoded copy: GGUF Q8_0 / Q4_0 blocks (a block's codes are
// dotted in i32 with x rounded to 16-bit codes per 32-block, then scaled once per block; llama.cpp
// rounds x to 8 bits instead), or signed 8-bit codes with f32 group scales. m is small (decode: 1–4
// rows of x). Not here: FP32 (gemv-f32.ts), the general GEMM (gemm.ts), 4-bit codebooks
// (gemv-nibble.ts), 16-bit floats (gemv16.ts), other packed layouts (dequant.ts decodes those per row).
import { halfToFloat } from "./dequant";

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/**
 * x [m, k] (f32, k a multiple of 32) → 16-bit codes per 32-block: q [m, k] i16 at `out`, then the
 * block scales [m, k/32] f32 (x ≈ scale·q, scale = absmax/32767, round to nearest). The GGUF GEMVs
 * dot these with the weight codes in 32-bit integers (i32x4.dot_i16x8_s).
 */
export function quantizeX16(m: i32, k: i32, x: usize, out: usize): void {
  const nb = k >> 5;
  const scales = out + ((<usize>(m * k)) << 1);
  for (let i = 0; i < m; i++) {
    for (let b = 0; b < nb; b++) {
      const xb = x + ((<usize>(i * k + (b << 5))) << 2);
      let mx = f32x4.splat(0);
      for (let t = 0; t < 128; t += 16) mx = f32x4.max(mx, f32x4.abs(v128.load(xb + <usize>t)));
      const amax = max(
        max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)),
        max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)),
      );
      const scale: f32 = amax / 32767;
      const inv = f32x4.splat(amax > 0 ? <f32>32767 / amax : 0);
      store<f32>(scales + ((<usize>(i * nb + b)) << 2), scale);
      const qb = out + ((<usize>(i * k + (b << 5))) << 1);
      for (let t = 0; t < 4; t++) {
        const lo = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb + <usize>(t * 32)), inv)));
        const hi = i32x4.trunc_sat_f32x4_s(
          f32x4.nearest(f32x4.mul(v128.load(xb + <usize>(t * 32), 16), inv)),
        );
        v128.store(qb + <usize>(t * 16), i16x8.narrow_i32x4_s(lo, hi));
      }
    }
  }
}

/** Σ of 32 products of i16 weight codes (four i16x8) with 32 x codes at `xq`, as i32x4 lanes. */
function dot32(w0: v128, w1: v128, w2: v128, w3: v128, xq: usize): v128 {
  let s = i32x4.dot_i16x8_s(w0, v128.load(xq));
  s = i32x4.add(s, i32x4.dot_i16x8_s(w1, v128.load(xq, 16)));
  s = i32x4.add(s, i32x4.dot_i16x8_s(w2, v128.load(xq, 32)));
  return i32x4.add(s, i32x4.dot_i16x8_s(w3, v128.load(xq, 48)));
}

/** Bytes of `gemvQ8_0` / `gemvQ4_0` scratch (per thread) for m rows of x of width k. */
export function gemvBlockScratchBytes(m: i32, k: i32): i32 {
  return m * k * 2 + m * (k >> 5) * 4;
}

/**
 * The i32x4 partial sums of one 32-element block at `b` ([f16 d, codes]) dotted with its 32 x codes at
 * `xq`. T picks the code layout at compile time (isSigned<T>() is a constant): i8 → Q8_0 (32 signed
 * bytes), u8 → Q4_0 (16 bytes; byte t: element t low nibble, t+16 high nibble; value nibble − 8).
 */
function blockDot<T>(b: usize, xq: usize): v128 {
  if (isSigned<T>()) {
    const c0 = v128.load(b + 2);
    const c1 = v128.load(b + 18);
    return dot32(
      i16x8.extend_low_i8x16_s(c0),
      i16x8.extend_high_i8x16_s(c0),
      i16x8.extend_low_i8x16_s(c1),
      i16x8.extend_high_i8x16_s(c1),
      xq,
    );
  }
  const bytes = v128.load(b + 2);
  const lo = i8x16.sub(v128.and(bytes, i8x16.splat(0x0f)), i8x16.splat(8)); // elements 0..15
  const hi = i8x16.sub(i8x16.shr_u(bytes, 4), i8x16.splat(8)); // elements 16..31
  return dot32(
    i16x8.extend_low_i8x16_s(lo),
    i16x8.extend_high_i8x16_s(lo),
    i16x8.extend_low_i8x16_s(hi),
    i16x8.extend_high_i8x16_s(hi),
    xq,
  );
}

/** The GGUF block GEMV shared by `gemvQ8_0` (T = i8, 34 B blocks) and `gemvQ4_0` (T = u8, 18 B). */
function rowsQ<T>(
  m: i32,
  k: i32,
  x: usize,
  w: usize,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
): void {
  quantizeX16(m, k, x, scratch);
  const blockBytes: usize = isSigned<T>() ? 34 : 18;
  const nb = k >> 5;
  const sx = scratch + ((<usize>(m * k)) << 1);
  const rowBytes = <usize>nb * blockBytes;
  for (let j = j0; j < j1; j++) {
    const wj = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xq = scratch + ((<usize>(i * k)) << 1);
      const xs = sx + ((<usize>(i * nb)) << 2);
      let acc = f32x4.splat(0);
      let b = wj;
      for (let q = 0; q < nb; q++) {
        const d = halfToFloat(<u32>load<u16>(b)) * load<f32>(xs + ((<usize>q) << 2));
        const s = blockDot<T>(b, xq + ((<usize>q) << 6));
        acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d)));
        b += blockBytes;
      }
      store<f32>(y + ((<usize>(i * n + j)) << 2), hsum(acc));
    }
  }
}

/**
 * GGUF Q8_0 W [n, k] (k/32 blocks of [f16 d, 32 × i8] per row, 34 B): y[i·n + j] = Σ_b d·sx·Σ_t q·xq
 * with x rounded to 16-bit codes per 32-block in `scratch` (gemvBlockScratchBytes). k a multiple of 32.
 */
export function gemvQ8_0(
  m: i32,
  k: i32,
  x: usize,
  w: usize,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
): void {
  rowsQ<i8>(m, k, x, w, y, n, j0, j1, scratch);
}

/**
 * GGUF Q4_0 W [n, k] (k/32 blocks of [f16 d, 16 B] per row, 18 B; byte t: element t low nibble,
 * t+16 high nibble; value d·(nibble − 8)): as `gemvQ8_0`, x rounded to 16-bit codes per 32-block.
 */
export function gemvQ4_0(
  m: i32,
  k: i32,
  x: usize,
  w: usize,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
): void {
  rowsQ<u8>(m, k, x, w, y, n, j0, j1, scratch);
}

/**
 * INT8 W [n, k] (k signed bytes per row; value q·scales[j, ⌊c / group⌋], scales [n, ⌈k/group⌉] f32;
 * group = k for one scale per row): y[i·n + j] = Σ_groups scale·Σ_c q·x, codes widened to f32.
 */
export function gemvI8(
  m: i32,
  k: i32,
  x: usize,
  w: usize,
  scales: usize,
  group: i32,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
): void {
  const G = (k + group - 1) / group;
  for (let j = j0; j < j1; j++) {
    const wj = w + <usize>j * <usize>k;
    const sj = scales + ((<usize>(j * G)) << 2);
    for (let i = 0; i < m; i++) {
      const xi = x + ((<usize>(i * k)) << 2);
      let acc: f32 = 0;
      let g = 0;
      for (let c0 = 0; c0 < k; c0 += group) {
        const c1 = min(c0 + group, k);
        let s = f32x4.splat(0);
        let s2 = f32x4.splat(0);
        let c = c0;
        for (; c + 15 < c1; c += 16) {
          const q = v128.load(wj + <usize>c);
          const lo = i16x8.extend_low_i8x16_s(q);
          const hi = i16x8.extend_high_i8x16_s(q);
          const xc = xi + ((<usize>c) << 2);
          s = f32x4.add(s, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), v128.load(xc)));
          s2 = f32x4.add(
            s2,
            f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), v128.load(xc, 16)),
          );
          s = f32x4.add(s, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), v128.load(xc, 32)));
          s2 = f32x4.add(
            s2,
            f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), v128.load(xc, 48)),
          );
        }
        let t = hsum(f32x4.add(s, s2));
        for (; c < c1; c++) t += <f32>load<i8>(wj + <usize>c) * load<f32>(xi + ((<usize>c) << 2));
        acc += t * load<f32>(sj + ((<usize>g) << 2));
        g++;
      }
      store<f32>(y + ((<usize>(i * n + j)) << 2), acc);
    }
  }
}
