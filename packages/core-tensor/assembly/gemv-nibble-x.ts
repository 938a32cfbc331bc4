// x's codes for the nibble GEMV (gemv-nibble.ts): each row of x [m, k] rounded per x-block to codes
// stored as i16 lanes for i32x4.dot_i16x8_s (plain SIMD build: codes within ±1927 combined along the
// nibble fields for an affine codebook, 8-bit ones combined in pairs for the lookup) or as bytes
// (relaxed build, for the 8-bit dot product), in the order the kernel unpacks a weight row's nibbles.
// Not here: the weights, their codebook or the dot products (gemv-nibble.ts).

import { Q4_X_LEVELS } from "./gemv";

/**
 * `quantizeX` for an affine codebook's kernel: codes within ±Q4_X_LEVELS (1927, as Q4_0's kernel,
 * gemv.ts), stored combined as y₀ = x₀, yₜ = xₜ − 16·xₜ₋₁.
 */
export const FLIP: i32 = 0;
/** `quantizeX` for the lookup kernel: 8-bit codes, stored in pairs as x₀ and x₁ − 256·x₀. */
export const PAIRS: i32 = 1;

/**
 * x [m, k] → integer codes per x-block of `bpx` 32-blocks (x ≈ s·code, s = absmax/levels, in `sx`)
 * stored as i16 lanes, 4 vectors per 32-block, in the order the kernel (gemv-nibble.ts `dot32`)
 * unpacks a weight row's nibbles, and per x-block the integer term `bias` (i32) the kernel adds to the
 * x-block's dot. `mode`:
 * - FLIP (affine codebook, value = unit·(code + beta)): levels 1927; vector t holds, for u = 0..7,
 *   yₜ = x(4u + t) − 16·x(4u + t − 1) (y₀ = x(4u)), within ±17·1927 ≤ 32767; bias = beta·Σ codes +
 *   8·Σ x(4u + 3), putting back the −8·x(4u + 3) of the kernel's flipped top nibble.
 * - PAIRS (looked-up codebook): levels 127; the vectors hold x(4u), x(4u + 2) − 256·x(4u), x(4u + 1),
 *   x(4u + 3) − 256·x(4u + 1) (within ±127·257); bias = beta·Σ codes.
 */
export function quantizeX(
  m: i32,
  k: i32,
  x: usize,
  codes: usize,
  sx: usize,
  bias: usize,
  bpx: i32,
  beta: i32,
  mode: i32,
): void {
  const levels: i32 = mode === FLIP ? <i32>Q4_X_LEVELS : 127;
  const nb = k >> 5;
  const nx = (nb + bpx - 1) / bpx;
  for (let i = 0; i < m; i++) {
    for (let e = 0; e < nx; e++) {
      const b0 = e * bpx;
      const b1 = min(b0 + bpx, nb);
      const xe = x + ((<usize>(i * k + (b0 << 5))) << 2);
      let mx = f32x4.splat(0);
      for (let t = 0; t < (b1 - b0) << 7; t += 16) mx = f32x4.max(mx, f32x4.abs(v128.load(xe + <usize>t)));
      const amax = max(
        max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)),
        max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)),
      );
      store<f32>(sx + ((<usize>(i * nb + e)) << 2), amax / <f32>levels);
      const inv = f32x4.splat(amax > 0 ? <f32>levels / amax : 0);
      let sum = i32x4.splat(0);
      let top = i16x8.splat(0); // Σ x(4u + 3) per lane u (FLIP): one code per 32-block, ≤ 4·1927
      for (let b = b0; b < b1; b++) {
        const xb = x + ((<usize>(i * k + (b << 5))) << 2);
        const q0 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb), inv)));
        const q1 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 16), inv)));
        const q2 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 32), inv)));
        const q3 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 48), inv)));
        const q4 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 64), inv)));
        const q5 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 80), inv)));
        const q6 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 96), inv)));
        const q7 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 112), inv)));
        sum = i32x4.add(
          sum,
          i32x4.add(
            i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3)),
            i32x4.add(i32x4.add(q4, q5), i32x4.add(q6, q7)),
          ),
        );
        // natural order, 8 elements each: n0 = 0..7, n1 = 8..15, n2 = 16..23, n3 = 24..31
        const n0 = i16x8.narrow_i32x4_s(q0, q1);
        const n1 = i16x8.narrow_i32x4_s(q2, q3);
        const n2 = i16x8.narrow_i32x4_s(q4, q5);
        const n3 = i16x8.narrow_i32x4_s(q6, q7);
        const ab01 = v128.shuffle<i16>(n0, n1, 0, 4, 8, 12, 2, 6, 10, 14); // 0 4 8 12 | 2 6 10 14
        const ab23 = v128.shuffle<i16>(n2, n3, 0, 4, 8, 12, 2, 6, 10, 14);
        const cd01 = v128.shuffle<i16>(n0, n1, 1, 5, 9, 13, 3, 7, 11, 15); // 1 5 9 13 | 3 7 11 15
        const cd23 = v128.shuffle<i16>(n2, n3, 1, 5, 9, 13, 3, 7, 11, 15);
        const out = codes + ((<usize>(i * k + (b << 5))) << 1);
        const e0 = v128.shuffle<i64>(ab01, ab23, 0, 2); // x(4u)
        const e2 = v128.shuffle<i64>(ab01, ab23, 1, 3); // x(4u + 2)
        const e1 = v128.shuffle<i64>(cd01, cd23, 0, 2); // x(4u + 1)
        const e3 = v128.shuffle<i64>(cd01, cd23, 1, 3); // x(4u + 3)
        if (mode === FLIP) {
          top = i16x8.add(top, e3);
          v128.store(out, e0);
          v128.store(out, i16x8.sub(e1, i16x8.shl(e0, 4)), 16);
          v128.store(out, i16x8.sub(e2, i16x8.shl(e1, 4)), 32);
          v128.store(out, i16x8.sub(e3, i16x8.shl(e2, 4)), 48);
        } else {
          v128.store(out, e0);
          v128.store(out, i16x8.sub(e2, i16x8.shl(e0, 8)), 16);
          v128.store(out, e1, 32);
          v128.store(out, i16x8.sub(e3, i16x8.shl(e1, 8)), 48);
        }
      }
      const s =
        i32x4.extract_lane(sum, 0) +
        i32x4.extract_lane(sum, 1) +
        i32x4.extract_lane(sum, 2) +
        i32x4.extract_lane(sum, 3);
      let term = s * beta;
      if (mode === FLIP) {
        const t4 = i32x4.extadd_pairwise_i16x8_s(top); // 8 lanes of ≤ 7708: widened before summing
        term +=
          8 *
          (i32x4.extract_lane(t4, 0) +
            i32x4.extract_lane(t4, 1) +
            i32x4.extract_lane(t4, 2) +
            i32x4.extract_lane(t4, 3));
      }
      store<i32>(bias + ((<usize>(i * nb + e)) << 2), term);
    }
  }
}

/**
 * x [m, k] → 8-bit codes per x-block of `bpx` 32-blocks (x ≈ s·code, s = absmax/127, round to nearest;
 * scale in `sx`, beta·Σ codes in `bias`, both [m, nb] with one entry per x-block). Each 32-block's
 * 32 code bytes at codes + i·k + 32·b are its even elements, then its odd ones: the order the kernel
 * unpacks a weight byte's low (element 2t) and high (2t + 1) nibbles.
 */
export function quantizeX8(
  m: i32,
  k: i32,
  x: usize,
  codes: usize,
  sx: usize,
  bias: usize,
  bpx: i32,
  beta: i32,
): void {
  const nb = k >> 5;
  const nx = (nb + bpx - 1) / bpx;
  for (let i = 0; i < m; i++) {
    for (let e = 0; e < nx; e++) {
      const b0 = e * bpx;
      const b1 = min(b0 + bpx, nb);
      const xe = x + ((<usize>(i * k + (b0 << 5))) << 2);
      let mx = f32x4.splat(0);
      for (let t = 0; t < (b1 - b0) << 7; t += 16) mx = f32x4.max(mx, f32x4.abs(v128.load(xe + <usize>t)));
      const amax = max(
        max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)),
        max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)),
      );
      store<f32>(sx + ((<usize>(i * nb + e)) << 2), amax / 127);
      const inv = f32x4.splat(amax > 0 ? <f32>127 / amax : 0);
      let sum = i32x4.splat(0);
      for (let b = b0; b < b1; b++) {
        const xb = x + ((<usize>(i * k + (b << 5))) << 2);
        const q0 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb), inv)));
        const q1 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 16), inv)));
        const q2 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 32), inv)));
        const q3 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 48), inv)));
        const q4 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 64), inv)));
        const q5 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 80), inv)));
        const q6 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 96), inv)));
        const q7 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xb, 112), inv)));
        sum = i32x4.add(
          sum,
          i32x4.add(
            i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3)),
            i32x4.add(i32x4.add(q4, q5), i32x4.add(q6, q7)),
          ),
        );
        // natural order: a = elements 0..15, c = 16..31
        const a = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3));
        const c = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q4, q5), i16x8.narrow_i32x4_s(q6, q7));
        const out = codes + <usize>(i * k + (b << 5));
        v128.store(out, v128.shuffle<u8>(a, c, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
        v128.store(
          out,
          v128.shuffle<u8>(a, c, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31),
          16,
        );
      }
      const s =
        i32x4.extract_lane(sum, 0) +
        i32x4.extract_lane(sum, 1) +
        i32x4.extract_lane(sum, 2) +
        i32x4.extract_lane(sum, 3);
      store<i32>(bias + ((<usize>(i * nb + e)) << 2), s * beta);
    }
  }
}
