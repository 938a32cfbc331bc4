// The relaxed-SIMD build's Q8_0 / Q4_0 / INT8 GEMV (AssemblyScript, `--target relaxed` only; gemv.ts
// calls in here under `if (ASC_FEATURE_RELAXED_SIMD)`): x rounded to 8-bit codes per 32-block and
// dotted with the weight bytes by i16x8.relaxed_dot_i8x16_i7x16_s (widened by extadd_pairwise),
// whose second operand must be in [0, 127] for a deterministic result. Not i32x4.relaxed_dot_i8x16_
// i7x16_add_s: Node 20's baseline compiler (V8 11.3 Liftoff, which runs a function until it tiers up)
// returns wrong sums for it (2·dot for a zero accumulator; TurboFan's are right), and once tiered up it
// measured slower here (Q8_0 4096² 1.26 → 1.46 ms: no VNNI lowering in this V8). Not here: the
// plain-SIMD kernels (gemv.ts), other formats.
//
// Operands of the 8-bit dot (V8 x64: pmaddubsw, then pmaddwd / paddd, the 7-bit side unsigned):
// - Q4_0: the raw nibbles 0..15 are the 7-bit side, x's signed codes the other, and 8·Σ x codes per
//   block is subtracted (Σ (nibble − 8)·xq = Σ nibble·xq − 8·Σ xq; llama.cpp's x86 Q4_0 × Q8_0 dot).
// - Q8_0 / INT8: x's codes split into xp = max(q, 0) and xn = max(−q, 0), both 7-bit, once per x-block
//   and shared by every row; per 16 weights the two i16x8 pair dots are subtracted: w·xp − w·xn = w·q
//   per pair, within i16 (|Σ| ≤ 2·128·127), exact for every code −128..127. Measured against moving
//   x's sign onto w ((w ^ m) −sat m, then one dot with |q|: equally fast, wrong for w = −128, x < 0):
//   4096×4096 1.26 vs 1.34 ms, 11008×4096 3.48 vs 3.47 ms (1 thread, medians of 11, standalone harness).
// Rows per pass (GGUF), measured the same way 2026-11-28 (load ≈ 3.5), 1 / 2 / 4 rows sharing x:
// 4096×4096 Q8_0 1.33 / 1.40 / 1.41 ms, Q4_0 0.92 / 1.11 / 1.03; 11008×4096 Q8_0 3.85 / 4.41 / 4.37,
// Q4_0 2.54 / 3.43 / 3.31. The cheaper inner loop does not lift gemv.ts's DRAM anomaly with several
// 34- or 18-byte-strided row streams: one row per pass, four blocks per f32 step. INT8 with several
// groups per row runs gemv.ts's banded four-row tile (`tileI8`), which calls `dotSigned` here.
import { halfToFloat } from "./dequant";
import { fence } from "./fence";

/**
 * x [m, k] (f32, k a multiple of 32) → 8-bit codes per 32-block (x ≈ s·q, s = absmax/127, round to
 * nearest even), laid out from `out`: bytes [m, k] (Q4_0: q; else max(q, 0)), bytes [m, k]
 * (max(−q, 0); not for Q4_0), block scales s [m, k/32] f32, then for Q4_0 8·Σ q per block [m, k/32]
 * i32. m·k·2 + m·(k/32)·8 bytes in all, within gemvBlockScratchBytes.
 */
export function quantizeX8(m: i32, k: i32, x: usize, out: usize, nibbles: bool): void {
  const nb = k >> 5;
  const mk = <usize>(m * k);
  const scales = out + (mk << 1);
  const sums = scales + ((<usize>(m * nb)) << 2);
  const zero = i32x4.splat(0);
  for (let i = 0; i < m; i++) {
    for (let b = 0; b < nb; b++) {
      const xb = x + ((<usize>(i * k + (b << 5))) << 2);
      let mx = f32x4.splat(0);
      for (let t = 0; t < 128; t += 16) mx = f32x4.max(mx, f32x4.abs(v128.load(xb + <usize>t)));
      const amax = max(
        max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)),
        max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)),
      );
      const at = (<usize>(i * nb + b)) << 2;
      store<f32>(scales + at, amax / 127);
      const inv = f32x4.splat(amax > 0 ? <f32>127 / amax : 0);
      const q = out + <usize>(i * k + (b << 5));
      let s16 = zero;
      for (let h = 0; h < 2; h++) {
        const xh = xb + <usize>(h << 6);
        const c0 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh), inv)));
        const c1 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh, 16), inv)));
        const c2 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh, 32), inv)));
        const c3 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh, 48), inv)));
        const lo = i16x8.narrow_i32x4_s(c0, c1);
        const hi = i16x8.narrow_i32x4_s(c2, c3);
        const c = i8x16.narrow_i16x8_s(lo, hi);
        const qo = q + <usize>(h << 4);
        if (nibbles) {
          v128.store(qo, c);
          s16 = i16x8.add(s16, i16x8.add(lo, hi));
        } else {
          v128.store(qo, i8x16.max_s(c, zero));
          v128.store(qo + mk, i8x16.max_s(i8x16.neg(c), zero));
        }
      }
      if (nibbles) {
        const s = i32x4.extadd_pairwise_i16x8_s(s16);
        const t = isum(s);
        store<i32>(sums + at, t << 3);
      }
    }
  }
}

/** Σ of one 32-block's signed weight bytes at `c` times x's codes (max(q, 0) at `xp`, max(−q, 0) at `xn`). */
export function dotSigned(c: usize, xp: usize, xn: usize): v128 {
  const w0 = v128.load(c);
  const w1 = v128.load(c, 16);
  const d0 = i16x8.sub(
    i16x8.relaxed_dot_i8x16_i7x16_s(w0, v128.load(xp)),
    i16x8.relaxed_dot_i8x16_i7x16_s(w0, v128.load(xn)),
  );
  const d1 = i16x8.sub(
    i16x8.relaxed_dot_i8x16_i7x16_s(w1, v128.load(xp, 16)),
    i16x8.relaxed_dot_i8x16_i7x16_s(w1, v128.load(xn, 16)),
  );
  return i32x4.add(i32x4.extadd_pairwise_i16x8_s(d0), i32x4.extadd_pairwise_i16x8_s(d1));
}

/**
 * Σ of one Q4_0 block's raw nibbles (16 bytes at `c`) times x's signed codes at `xq` (natural order):
 * the two halves' i16 pair dots (each |·| ≤ 2·15·127) add exactly in i16 before one widening.
 */
function dotNibbles(c: usize, xq: usize): v128 {
  const l = v128.load(c);
  const nib = i8x16.splat(0x0f);
  // elements 0..15 in the low nibbles, 16..31 in the high ones
  const lo = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xq), v128.and(l, nib));
  const hi = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xq, 16), v128.and(i16x8.shr_u(l, 4), nib));
  return i32x4.extadd_pairwise_i16x8_s(i16x8.add(lo, hi));
}

/** [Σ lanes of a, of b, of c, of d]: four i32x4 reduced by a 4×4 transpose (6 shuffles, 6 adds). */
function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/**
 * The f16 scales of four consecutive GGUF blocks (at b, b + bs, b + 2·bs, b + 3·bs) as f32x4: the four
 * halves gathered by scalar loads into one i64 (the integer pipes), widened into the top half of each
 * i32 lane, shifted into an f32 pattern scaled by 2^-112 (gemv16.ts's decode) and × 2^112 (exact for
 * normal and subnormal halves); exponent 31 mapped to ±Inf / NaN, on a branch taken only when a test of
 * the gathered i64 finds one (the select and its constants, rebuilt by V8 in every iteration, cost Q4_0
 * 1 thread 4096² 1.08 → 0.91 ms on the simd build, 0.78 → 0.65 on relaxed; medians of 41 interleaved
 * calls, W in cache, the same results bit for bit). Measured against gathering with four
 * v128.load16_lane and masking sign and magnitude apart: Q8_0 1 thread 4096² 1.32 → 1.08 ms, 11008
 * 3.60 → 2.94 ms (minima of 11 interleaved, load ≈ 9), the same results bit for bit.
 */
export function halves4(b: usize, bs: usize): v128 {
  const lo = <u64>load<u16>(b) | ((<u64>load<u16>(b + bs)) << 16);
  const hi = <u64>load<u16>(b + 2 * bs) | ((<u64>load<u16>(b + 3 * bs)) << 16);
  const all = lo | (hi << 32);
  const h = i32x4.shl(i32x4.extend_low_i16x8_u(i64x2.splat(<i64>all)), 16);
  const bits = v128.and(i32x4.shr_s(h, 3), i32x4.splat(<i32>0x8fffe000));
  // exponent 31 (±Inf, NaN) in any of the four: adding 1 to a 5-bit field of 31 carries into bit 15
  if (((all & 0x7c007c007c007c00) + 0x0400040004000400) & 0x8000800080008000) {
    const special = i32x4.gt_u(v128.and(h, i32x4.splat(0x7fffffff)), i32x4.splat(0x7bffffff));
    const normal = f32x4.mul(bits, f32x4.splat(5.192296858534828e33)); // 2^112
    return v128.bitselect(v128.or(bits, i32x4.splat(0x7f800000)), normal, special);
  }
  return f32x4.mul(bits, f32x4.splat(5.192296858534828e33)); // 2^112
}

/** Σ of the four i32 lanes of v (exact: a block's integer dot total). */
function isum(v: v128): i32 {
  return (
    i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3)
  );
}

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/**
 * GGUF Q8_0 (T = i8, 34 B blocks) or Q4_0 (T = u8, 18 B) rows [j0, j1) of W [n, k]: one row
 * per pass; per four blocks their i32 dots reduced to four block totals (sum4), converted once and
 * scaled by the four d (halves4) · sx; the last k/32 mod 4 blocks one at a time. x's 8-bit codes are
 * already in `scratch` (quantizeX8, once per call: the rows may come in several blocks).
 */
export function rowsQ8<T>(
  m: i32,
  k: i32,
  w: usize,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
): void {
  const nibbles = !isSigned<T>(); // a compile-time constant: one loop per format
  const bs: usize = nibbles ? 18 : 34;
  const nb = k >> 5;
  const nb4 = nb & ~3;
  const mk = <usize>(m * k);
  const sx = scratch + (mk << 1);
  const sums = sx + ((<usize>(m * nb)) << 2);
  const rowBytes = <usize>nb * bs;
  for (let j = j0; j < j1; j++) {
    const wj = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xq = scratch + <usize>(i * k);
      const xs = sx + ((<usize>(i * nb)) << 2);
      const xsum = sums + ((<usize>(i * nb)) << 2);
      const yo = y + ((<usize>(i * n + j)) << 2);
      let acc = f32x4.splat(0);
      let b = wj;
      let q = 0;
      for (; q < nb4; q += 4) {
        const xo = xq + ((<usize>q) << 5);
        let s: v128;
        // each block's dot passes a fence (into this row's y, written last): see fence.ts
        if (nibbles) {
          const d0 = dotNibbles(b + 2, xo);
          fence(yo, i32x4.extract_lane(d0, 0));
          const d1 = dotNibbles(b + 20, xo + 32);
          fence(yo, i32x4.extract_lane(d1, 0));
          const d2 = dotNibbles(b + 38, xo + 64);
          fence(yo, i32x4.extract_lane(d2, 0));
          const d3 = dotNibbles(b + 56, xo + 96);
          fence(yo, i32x4.extract_lane(d3, 0));
          s = i32x4.sub(sum4(d0, d1, d2, d3), v128.load(xsum + ((<usize>q) << 2)));
        } else {
          const d0 = dotSigned(b + 2, xo, xo + mk);
          fence(yo, i32x4.extract_lane(d0, 0));
          const d1 = dotSigned(b + 36, xo + 32, xo + mk + 32);
          fence(yo, i32x4.extract_lane(d1, 0));
          const d2 = dotSigned(b + 70, xo + 64, xo + mk + 64);
          fence(yo, i32x4.extract_lane(d2, 0));
          const d3 = dotSigned(b + 104, xo + 96, xo + mk + 96);
          fence(yo, i32x4.extract_lane(d3, 0));
          s = sum4(d0, d1, d2, d3);
        }
        const d = f32x4.mul(halves4(b, bs), v128.load(xs + ((<usize>q) << 2)));
        acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), d));
        b += bs << 2;
      }
      // the last nb % 4 blocks: each block's exact integer total (Q4_0's lanes alone would carry
      // large partial sums that cancel only after rounding), scaled in scalar
      let tail: f32 = 0;
      for (; q < nb; q++) {
        const xo = xq + ((<usize>q) << 5);
        const s = nibbles ? dotNibbles(b + 2, xo) : dotSigned(b + 2, xo, xo + mk);
        let t = isum(s);
        if (nibbles) t -= load<i32>(xsum + ((<usize>q) << 2));
        const d = halfToFloat(<u32>load<u16>(b)) * load<f32>(xs + ((<usize>q) << 2));
        tail += <f32>t * d;
        b += bs;
      }
      store<f32>(yo, hsum(acc) + tail);
    }
  }
}
