// Decode GEMV over 4-bit codebook weights (quant's INT4 / NF4 layout) resident in linear memory
// (AssemblyScript, 128-bit SIMD): y[i, j] = Σ_q x[i, q]·W[j, q] with W[j, q] = codebook[code]·scale(j, g).
// Codes become 16-bit integers through two byte-plane lookups (i8x16.swizzle) of a 13-bit copy of the
// codebook and are dotted with x rounded to 16-bit codes per 32-block (i32x4.dot_i16x8_s); group scales
// are read as f32 or, for NF4's double quantisation, decoded here from their 8-bit codes.
// Not here: other layouts (gemv.ts), k or group not multiples of 32 (dequant.ts decodes those per row).
import { quantizeX16 } from "./gemv";

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/**
 * Largest integer code of the kernel's codebook copy. A 32-block sums 8 products per i32 lane:
 * 8 · 8191 · 32767 < 2^31, so the i16·i16 dot products of one block never overflow.
 */
const CODE_MAX: f64 = 8191;

/**
 * The factor s by which the codebook is scaled to 16-bit integers (code ≈ s·value, |code| ≤ 8191):
 * the largest power of two when that keeps every value exact (integer codebooks such as INT4's),
 * else 8191 / max|value| (NF4: each value within 0.5/8191 of max|value|).
 */
function codebookScale(codebook: usize): f64 {
  let mx: f64 = 0;
  for (let c = 0; c < 16; c++) mx = max(mx, abs(<f64>load<f32>(codebook + <usize>(c << 2))));
  if (mx === 0) return 1;
  let p2: f64 = 1;
  while (p2 * 2 * mx <= CODE_MAX) p2 *= 2;
  while (p2 * mx > CODE_MAX) p2 /= 2;
  let exact = true;
  for (let c = 0; c < 16; c++) {
    const v = <f64>load<f32>(codebook + <usize>(c << 2)) * p2;
    if (v !== Math.round(v)) exact = false;
  }
  return exact ? p2 : CODE_MAX / mx;
}

/**
 * Bytes of `gemvNibble` scratch (per thread): x as 16-bit codes [m, k] (per 32-block: the 16 even
 * elements, then the 16 odd ones), their block scales [m, k/32] f32, and the codebook's two byte planes.
 */
export function gemvNibbleScratchBytes(m: i32, k: i32): i32 {
  return m * k * 2 + m * (k >> 5) * 4 + 32;
}

/**
 * 4-bit codebook W [n, k] (k/2 bytes per row, element 2t in the LOW nibble of byte t; value
 * codebook[code]·scale(j, ⌊c / group⌋)): y[i·n + j] = Σ_q x[i, q]·W[j, q] for j0 ≤ j < j1. Scales
 * [n, ⌈k/group⌉]: f32 at `scales` when `dqCodes` is 0, else double-quantised: scale of group index
 * t = j·G + g is dqCodes[t] (i8) · scales[⌊t / dqChunk⌋] + dqMean (computed in f64, rounded to f32, as
 * the JS decoder does). k and group multiples of 32. `scratch`: gemvNibbleScratchBytes(m, k).
 */
export function gemvNibble(
  m: i32,
  k: i32,
  x: usize,
  w: usize,
  scales: usize,
  group: i32,
  codebook: usize,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
  dqCodes: usize,
  dqChunk: i32,
  dqMean: f64,
): void {
  quantizeX16(m, k, x, scratch);
  const nb = k >> 5;
  const sx = scratch + ((<usize>(m * k)) << 1);
  // Per 32-block of x codes [0..31] → [0, 2, …, 30 | 1, 3, …, 31]: the low nibbles of the block's 16
  // bytes are its even elements, the high nibbles its odd ones.
  for (let i = 0; i < m * nb; i++) {
    const b = scratch + ((<usize>i) << 6);
    const c0 = v128.load(b);
    const c1 = v128.load(b, 16);
    const c2 = v128.load(b, 32);
    const c3 = v128.load(b, 48);
    v128.store(b, i8x16.shuffle(c0, c1, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29));
    v128.store(b, i8x16.shuffle(c2, c3, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29), 16);
    v128.store(b, i8x16.shuffle(c0, c1, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31), 32);
    v128.store(b, i8x16.shuffle(c2, c3, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31), 48);
  }
  // The codebook as 16-bit integers, split into a low-byte and a high-byte plane for the lookups.
  const s = codebookScale(codebook);
  const planes = sx + ((<usize>(m * nb)) << 2);
  for (let c = 0; c < 16; c++) {
    const q = <i32>Math.round(<f64>load<f32>(codebook + <usize>(c << 2)) * s);
    store<u8>(planes + <usize>c, <u8>(q & 0xff));
    store<u8>(planes + <usize>(16 + c), <u8>((q >> 8) & 0xff));
  }
  const pl = v128.load(planes);
  const ph = v128.load(planes, 16);
  const inv = <f32>(1 / s);
  const G = (k + group - 1) / group; // the last group of a row may be shorter
  const bpg = group >> 5; // 32-blocks per group
  const half = <usize>(k >> 1);
  // Two rows of W per pass share each load of x's codes and block scale.
  let j = j0;
  for (; j + 1 < j1; j += 2) {
    const w0 = w + <usize>j * half;
    const w1 = w0 + half;
    for (let i = 0; i < m; i++) {
      const xq = scratch + ((<usize>(i * k)) << 1);
      const xs = sx + ((<usize>(i * nb)) << 2);
      let acc0 = f32x4.splat(0);
      let acc1 = f32x4.splat(0);
      for (let g = 0; g < G; g++) {
        const s0 = groupScale(scales, dqCodes, dqChunk, dqMean, j * G + g) * inv;
        const s1 = groupScale(scales, dqCodes, dqChunk, dqMean, (j + 1) * G + g) * inv;
        const bEnd = min((g + 1) * bpg, nb);
        for (let b = g * bpg; b < bEnd; b++) {
          const xb = xq + ((<usize>b) << 6);
          const x0 = v128.load(xb);
          const x1 = v128.load(xb, 16);
          const x2 = v128.load(xb, 32);
          const x3 = v128.load(xb, 48);
          const sxb = load<f32>(xs + ((<usize>b) << 2));
          const d0 = dot32(v128.load(w0 + ((<usize>b) << 4)), pl, ph, x0, x1, x2, x3);
          const d1 = dot32(v128.load(w1 + ((<usize>b) << 4)), pl, ph, x0, x1, x2, x3);
          acc0 = f32x4.add(acc0, f32x4.mul(f32x4.convert_i32x4_s(d0), f32x4.splat(s0 * sxb)));
          acc1 = f32x4.add(acc1, f32x4.mul(f32x4.convert_i32x4_s(d1), f32x4.splat(s1 * sxb)));
        }
      }
      store<f32>(y + ((<usize>(i * n + j)) << 2), hsum(acc0));
      store<f32>(y + ((<usize>(i * n + j + 1)) << 2), hsum(acc1));
    }
  }
  for (; j < j1; j++) {
    const wj = w + <usize>j * half;
    for (let i = 0; i < m; i++) {
      const xq = scratch + ((<usize>(i * k)) << 1);
      const xs = sx + ((<usize>(i * nb)) << 2);
      let acc = f32x4.splat(0);
      for (let g = 0; g < G; g++) {
        const sg = groupScale(scales, dqCodes, dqChunk, dqMean, j * G + g) * inv;
        const bEnd = min((g + 1) * bpg, nb);
        for (let b = g * bpg; b < bEnd; b++) {
          const xb = xq + ((<usize>b) << 6);
          const d = dot32(
            v128.load(wj + ((<usize>b) << 4)),
            pl,
            ph,
            v128.load(xb),
            v128.load(xb, 16),
            v128.load(xb, 32),
            v128.load(xb, 48),
          );
          acc = f32x4.add(
            acc,
            f32x4.mul(f32x4.convert_i32x4_s(d), f32x4.splat(sg * load<f32>(xs + ((<usize>b) << 2)))),
          );
        }
      }
      store<f32>(y + ((<usize>(i * n + j)) << 2), hsum(acc));
    }
  }
}

/** Scale of group index t: f32 at `scales`, or double-quantised (see `gemvNibble`). */
function groupScale(scales: usize, dqCodes: usize, dqChunk: i32, dqMean: f64, t: i32): f32 {
  return dqCodes === 0
    ? load<f32>(scales + ((<usize>t) << 2))
    : <f32>(
        (<f64>load<i8>(dqCodes + <usize>t) * <f64>load<f32>(scales + ((<usize>(t / dqChunk)) << 2)) + dqMean)
      );
}

/**
 * One 32-block: the 16 code bytes in `bytes` (low nibbles: even elements, high: odd) looked up as
 * 16-bit integers in the byte planes pl / ph and dotted with x's codes x0..x3 ([even 0..7 | even 8..15
 * | odd 0..7 | odd 8..15]): i32x4 partial sums, 8 products per lane.
 */
function dot32(bytes: v128, pl: v128, ph: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const lo = v128.and(bytes, i8x16.splat(0x0f)); // even elements
  const hi = v128.and(i16x8.shr_u(bytes, 4), i8x16.splat(0x0f)); // odd elements
  const el = i8x16.swizzle(pl, lo);
  const eh = i8x16.swizzle(ph, lo);
  const ol = i8x16.swizzle(pl, hi);
  const oh = i8x16.swizzle(ph, hi);
  let d = i32x4.dot_i16x8_s(
    i8x16.shuffle(el, eh, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23),
    x0,
  );
  d = i32x4.add(
    d,
    i32x4.dot_i16x8_s(
      i8x16.shuffle(el, eh, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31),
      x1,
    ),
  );
  d = i32x4.add(
    d,
    i32x4.dot_i16x8_s(i8x16.shuffle(ol, oh, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), x2),
  );
  return i32x4.add(
    d,
    i32x4.dot_i16x8_s(
      i8x16.shuffle(ol, oh, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31),
      x3,
    ),
  );
}
