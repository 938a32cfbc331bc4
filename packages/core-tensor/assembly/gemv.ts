// Decode GEMV / thin GEMM over packed weights resident in linear memory (AssemblyScript, 128-bit
// SIMD): y[i, j] = Σ_q x[i, q] · W[j, q] for rows j in [j0, j1) (a thread's share) and every i < m,
// reading W in its stored format with no decoded copy: GGUF Q8_0 / Q4_0 blocks or signed 8-bit codes
// with f32 group scales (INT8). x is rounded to 16-bit codes per 32-block (Q4_0: codes within ±1927,
// `Q4_X_LEVELS`) and dotted with the weight codes in 32-bit integers; m is small (decode: 1–4 rows of
// x). Not here: FP32 (gemv-f32.ts), the general GEMM (gemm.ts), 4-bit codebooks (gemv-nibble.ts),
// 16-bit floats (gemv16.ts), other packed layouts (dequant.ts decodes those per row). The relaxed-SIMD
// build (`--target relaxed`) runs gemv-dot8.ts's kernels instead (x at 8 bits, an 8-bit dot product);
// this file's code is the simd build's.
//
// Measured choices (AMD EPYC Zen 5, Node 20, single-thread kernel minima of interleaved runs over
// 4096×4096 and 11008×4096, 2026-11-28): INT8 with groups of 32, 64, 96, … reads four rows per pass,
// sharing each load of x's codes and reducing the four rows' i32x4 sums by a transpose (4096²: 1.9 →
// 0.95 ms, 11008: 5.2 → 3.0 ms); with one scale per row (its default) or groups of a multiple of 128
// it reads one row per pass like the GGUF formats (rowsI8One), for the reason below.
// The GGUF formats read ONE row per pass: the same four-row tile (with the four f16 scales decoded
// together in SIMD) is as fast while W sits in cache but reads DRAM at half speed when its four row
// streams step by 34 or 18 bytes (Q8_0 11008×4096: 3.2 → 5.3–6.5 ms; two rows as slow as four).
// Along its row a pass takes four blocks at a time: their four f16 scales decoded together
// (gemv-dot8.ts halves4), their integer dots reduced to four exact totals (sum4), each block's dot
// past a `fence` (fence.ts) against V8 hoisting every load of the step. x stays 16-bit (llama.cpp
// rounds x to 8 bits; reasoned from V8's x64 lowering, not timed): V8 lowers i32x4.dot_i16x8_s to one
// pmaddwd per 8 products, while 8-bit x needs i16x8.extmul (two sign-extends and a pmullw) plus
// i32x4.extadd_pairwise (another pmaddwd) per 8.
import { halfToFloat } from "./dequant";
import { fence } from "./fence";
import { dotSigned, halves4, quantizeX8, rowsQ8 } from "./gemv-dot8";
import { nextRows, rowsEnd } from "./row-blocks";

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
 * x [m, k] (f32, k a multiple of 32) → 16-bit codes per 32-block: q [m, k] i16 at `out`, then the
 * block scales [m, k/32] f32 (x ≈ scale·q, scale = absmax/32767, round to nearest). The GEMVs dot
 * these with the weight codes in 32-bit integers (i32x4.dot_i16x8_s).
 */
export function quantizeX16(m: i32, k: i32, x: usize, out: usize): void {
  quantizeXCodes(m, k, x, out, 32767);
}

/** `quantizeX16` with codes in [−levels, levels] (scale = absmax/levels). */
function quantizeXCodes(m: i32, k: i32, x: usize, out: usize, levels: f32): void {
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
      const scale: f32 = amax / levels;
      const inv = f32x4.splat(amax > 0 ? levels / amax : 0);
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

/**
 * x rounded to codes within ±Q4_X_LEVELS per 32-block for the Q4_0 kernel, in the order of the nibble
 * fields of its 16-bit lanes (lane l = byte 2l | byte 2l + 1 << 8 holds elements 2l, 16 + 2l, 2l + 1,
 * 17 + 2l in bits 0–3, 4–7, 8–11, 12–15; x codes x₀..x₃ of those four), stored as the four i16x8
 * y₀ = x₀, y₁ = x₁ − 16·x₀, y₂ = x₂ − 16·x₁, y₃ = x₃ − 16·x₂; then per block 8·Σ(x₀ + x₁ + x₂) [m, k/32]
 * (i32) after the scales. Why (`codesDot`): with L the lane, its top bit flipped, read as a signed i16,
 * and Sₜ = L >> 4t (arithmetic), Σₜ Sₜ·yₜ = n₀x₀ + n₁x₁ + n₂x₂ + (n₃ − 8)x₃ for the lane's nibbles n,
 * so the kernel subtracts 8·Σ(x₀ + x₁ + x₂) from each block's exact integer total to get Σ (n − 8)·x,
 * before anything is rounded to f32.
 */
function quantizeX16Nibbles(m: i32, k: i32, x: usize, out: usize): void {
  quantizeXCodes(m, k, x, out, Q4_X_LEVELS);
  const blocks = m * (k >> 5);
  const sums = out + ((<usize>(m * k)) << 1) + ((<usize>blocks) << 2);
  const one = i16x8.splat(1);
  const sixteen = i16x8.splat(16);
  for (let c = 0; c < blocks; c++) {
    const p = out + ((<usize>c) << 6);
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    const v3 = v128.load(p, 48);
    const f0 = i16x8.shuffle(v0, v1, 0, 2, 4, 6, 8, 10, 12, 14); // elements 2l: bits 0–3 of lane l
    const f2 = i16x8.shuffle(v0, v1, 1, 3, 5, 7, 9, 11, 13, 15); // 2l + 1: bits 8–11
    const f1 = i16x8.shuffle(v2, v3, 0, 2, 4, 6, 8, 10, 12, 14); // 16 + 2l: bits 4–7
    const f3 = i16x8.shuffle(v2, v3, 1, 3, 5, 7, 9, 11, 13, 15); // 17 + 2l: bits 12–15
    v128.store(p, f0);
    v128.store(p, i16x8.sub(f1, i16x8.mul(f0, sixteen)), 16);
    v128.store(p, i16x8.sub(f2, i16x8.mul(f1, sixteen)), 32);
    v128.store(p, i16x8.sub(f3, i16x8.mul(f2, sixteen)), 48);
    const s = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(f0, one), i32x4.dot_i16x8_s(f1, one)),
      i32x4.dot_i16x8_s(f2, one),
    );
    const t = isum(s);
    store<i32>(sums + ((<usize>c) << 2), t << 3);
  }
}

/**
 * The largest |code| of x for the Q4_0 kernel: y₁..y₃ = xₜ − 16·xₜ₋₁ must fit an i16 (17·1927 ≤ 32767),
 * and a block's total stays an exact i32 (|Σ| ≤ 8·1927·(32768 + 17·(2048 + 128 + 8)) < 2^31). Still 15×
 * finer than the 8-bit x of llama.cpp's Q4_0 dot (and of the relaxed build). It buys two instructions per
 * block (a flip and three shifts instead of three masks and three shifts): 1 thread, builds alternated
 * in one process, medians of 41 × 5 calls at 4096² / 11008×4096 / 1024×4096, 2026-11-28: 0.94–0.97
 * of the masked kernel's time (two runs).
 */
export const Q4_X_LEVELS: f32 = 1927;

/**
 * Bytes of `gemvQ8_0` / `gemvQ4_0` / `gemvI8` scratch (per thread) for m rows of x of width k: the
 * codes, the block scales and Q4_0's block code sums.
 */
export function gemvBlockScratchBytes(m: i32, k: i32): i32 {
  return m * k * 2 + m * (k >> 5) * 8;
}

/** Σ of 32 products of i16 weight codes (four i16x8) with 32 x codes at `xq`, as i32x4 lanes. */
function dot32(w0: v128, w1: v128, w2: v128, w3: v128, xq: usize): v128 {
  let s = i32x4.dot_i16x8_s(w0, v128.load(xq));
  s = i32x4.add(s, i32x4.dot_i16x8_s(w1, v128.load(xq, 16)));
  s = i32x4.add(s, i32x4.dot_i16x8_s(w2, v128.load(xq, 32)));
  return i32x4.add(s, i32x4.dot_i16x8_s(w3, v128.load(xq, 48)));
}

/**
 * The i32x4 partial sums of one 32-element block's codes at `c` dotted with its 32 x codes at `xq`.
 * T picks the layout at compile time (isSigned<T>() is a constant): i8 → 32 signed bytes (Q8_0,
 * INT8), x in natural order; u8 → Q4_0's 16 bytes (byte t: element t low nibble, t+16 high nibble),
 * read as 16-bit lanes with their top bit flipped (`flip` = 0x8000 per lane) and shifted right by 0, 4,
 * 8 and 12 (arithmetic), x as `quantizeX16Nibbles` stores it: the block's Σ (n − 8)·x plus its 8·Σ
 * term (see there).
 */
function codesDot<T>(c: usize, xq: usize, flip: v128): v128 {
  if (isSigned<T>()) {
    return dot32(v128.load8x8_s(c), v128.load8x8_s(c, 8), v128.load8x8_s(c, 16), v128.load8x8_s(c, 24), xq);
  }
  const l = v128.xor(v128.load(c), flip);
  return dot32(l, i16x8.shr_s(l, 4), i16x8.shr_s(l, 8), i16x8.shr_s(l, 12), xq);
}

/** [Σ lanes of a, of b, of c, of d]: four i32x4 reduced by a 4×4 transpose (6 shuffles, 6 adds). */
function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/** y[yo + r] = lane r of v for r < count (count ≥ 4: one store). */
function storeLanes(yo: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(yo, v);
    return;
  }
  store<f32>(yo, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(yo, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(yo, f32x4.extract_lane(v, 2), 8);
}

/**
 * The GGUF block GEMV shared by `gemvQ8_0` (T = i8, 34 B blocks) and `gemvQ4_0` (T = u8, 18 B): x
 * rounded to codes once, then the thread's blocks of rows (row-blocks.ts) on this build's kernel.
 */
function gemvQ<T>(
  m: i32,
  k: i32,
  x: usize,
  w: usize,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
  counter: usize,
  chunk: i32,
): void {
  if (ASC_FEATURE_RELAXED_SIMD) quantizeX8(m, k, x, scratch, !isSigned<T>());
  else if (isSigned<T>()) quantizeX16(m, k, x, scratch);
  else quantizeX16Nibbles(m, k, x, scratch);
  for (let a = nextRows(counter, chunk, j0, j1, -1); a < j1; a = nextRows(counter, chunk, j0, j1, a)) {
    const b = rowsEnd(counter, chunk, j1, a);
    if (ASC_FEATURE_RELAXED_SIMD) rowsQ8<T>(m, k, w, y, n, a, b, scratch);
    else rowsQ<T>(m, k, w, y, n, a, b, scratch);
  }
}

/**
 * Rows [j0, j1) of the simd build's GGUF block GEMV, x's 16-bit codes already in `scratch`: one row of
 * W per pass (see the header); per four blocks their i32x4 code dots reduced to four exact block
 * totals (sum4), converted once and scaled by the four d (halves4, gemv-dot8.ts) · sx, as the relaxed
 * build does; the last k/32 mod 4 blocks one at a time. Each block's sum passes a `fence` (into this
 * row's y, written last) so its loads are not hoisted above the previous block's arithmetic.
 */
function rowsQ<T>(m: i32, k: i32, w: usize, y: usize, n: i32, j0: i32, j1: i32, scratch: usize): void {
  const blockBytes: usize = isSigned<T>() ? 34 : 18;
  const nb = k >> 5;
  const nb4 = nb & ~3;
  const sx = scratch + ((<usize>(m * k)) << 1);
  const sums = sx + ((<usize>(m * nb)) << 2);
  const rowBytes = <usize>nb * blockBytes;
  const flip = i16x8.splat(<i16>0x8000);
  for (let j = j0; j < j1; j++) {
    const wj = w + <usize>j * rowBytes;
    for (let i = 0; i < m; i++) {
      const xq = scratch + ((<usize>(i * k)) << 1);
      const xs = sx + ((<usize>(i * nb)) << 2);
      const xsum = sums + ((<usize>(i * nb)) << 2);
      let acc = f32x4.splat(0);
      let b = wj;
      let q = 0;
      const yo = y + ((<usize>(i * n + j)) << 2);
      for (; q < nb4; q += 4) {
        const xo = xq + ((<usize>q) << 6);
        const s0 = codesDot<T>(b + 2, xo, flip);
        fence(yo, i32x4.extract_lane(s0, 0));
        const s1 = codesDot<T>(b + blockBytes + 2, xo + 64, flip);
        fence(yo, i32x4.extract_lane(s1, 0));
        const s2 = codesDot<T>(b + 2 * blockBytes + 2, xo + 128, flip);
        fence(yo, i32x4.extract_lane(s2, 0));
        const s3 = codesDot<T>(b + 3 * blockBytes + 2, xo + 192, flip);
        fence(yo, i32x4.extract_lane(s3, 0));
        let s = sum4(s0, s1, s2, s3);
        // Q4_0: Σ (n − 8)·x = the lanes' dot − 8·Σ(x₀ + x₁ + x₂) (quantizeX16Nibbles), exact totals
        if (!isSigned<T>()) s = i32x4.sub(s, v128.load(xsum + ((<usize>q) << 2)));
        const d = f32x4.mul(halves4(b, blockBytes), v128.load(xs + ((<usize>q) << 2)));
        acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), d));
        b += blockBytes << 2;
      }
      // the last nb % 4 blocks: each block's exact integer total, scaled in scalar
      let tail: f32 = 0;
      for (; q < nb; q++) {
        const s = codesDot<T>(b + 2, xq + ((<usize>q) << 6), flip);
        let t = isum(s);
        if (!isSigned<T>()) t -= load<i32>(xsum + ((<usize>q) << 2));
        tail += <f32>t * (halfToFloat(<u32>load<u16>(b)) * load<f32>(xs + ((<usize>q) << 2)));
        b += blockBytes;
      }
      store<f32>(yo, hsum(acc) + tail);
    }
  }
}

/**
 * GGUF Q8_0 W [n, k] (k/32 blocks of [f16 d, 32 × i8] per row, 34 B): y[i·n + j] = Σ_b d·sx·Σ_t q·xq
 * with x rounded to 16-bit codes per 32-block in `scratch` (gemvBlockScratchBytes). k a multiple of 32.
 * Rows [j0, j1) in one go (`counter` = 0) or in blocks of `chunk` rows from the shared atomic
 * `counter` (row-blocks.ts); the same for every packed GEMV here.
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
  counter: usize,
  chunk: i32,
): void {
  gemvQ<i8>(m, k, x, w, y, n, j0, j1, scratch, counter, chunk);
}

/**
 * GGUF Q4_0 W [n, k] (k/32 blocks of [f16 d, 16 B] per row, 18 B; byte t: element t low nibble,
 * t+16 high nibble; value d·(nibble − 8)): as `gemvQ8_0`, x rounded to codes within ±1927 per
 * 32-block (`Q4_X_LEVELS`).
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
  counter: usize,
  chunk: i32,
): void {
  gemvQ<u8>(m, k, x, w, y, n, j0, j1, scratch, counter, chunk);
}

/**
 * INT8 W [n, k] (k signed bytes per row; value q·scales[j, ⌊c / group⌋], scales [n, ⌈k/group⌉] f32;
 * group = k for one scale per row): y[i·n + j] = Σ_groups scale·Σ_c q·x. With k and group multiples of
 * 32: x rounded to 16-bit codes per 32-block in `scratch` (gemvBlockScratchBytes), integer block dots,
 * four rows per pass, the group scales applied once per group; otherwise codes widened to f32.
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
  scratch: usize,
  counter: usize,
  chunk: i32,
): void {
  const codes = (k & 31) === 0 && (group & 31) === 0; // else x is read as it is, in f32
  if (codes && ASC_FEATURE_RELAXED_SIMD) quantizeX8(m, k, x, scratch, false);
  else if (codes) quantizeX16(m, k, x, scratch);
  for (let a = nextRows(counter, chunk, j0, j1, -1); a < j1; a = nextRows(counter, chunk, j0, j1, a)) {
    const b = rowsEnd(counter, chunk, j1, a);
    if (!codes) rowsI8F32(m, k, x, w, scales, group, y, n, a, b);
    else if (group >= k || (group & 127) === 0) rowsI8One(m, k, w, scales, group, y, n, a, b, scratch);
    else rowsI8(m, k, w, scales, group, y, n, a, b, scratch);
  }
}

/**
 * Rows [j0, j1) of the INT8 GEMV with several groups per row of 32, 64 or 96 inputs (k and group
 * multiples of 32; groups of a multiple of 128 take rowsI8One), x's codes already in `scratch`: four
 * rows per pass sharing each load of x's codes (`tileI8`), as four bands of the block (pass t reads row
 * t of each quarter; gemv-f32.ts `bands`: each row stream runs on through its band instead of
 * restarting every pass), then the last (j1 − j0) mod 4 rows together. Neighbouring rows → bands,
 * measured on INT8[group=128] while it still took this path, 2 threads, builds alternated over
 * processes (3 each, medians of 35 calls): 1×4096×4096 0.657–0.663 → 0.585–0.629 ms, 1×4096×11008
 * 1.66–1.90 → 1.49–1.54 ms (2026-11-29).
 */
function rowsI8(
  m: i32,
  k: i32,
  w: usize,
  scales: usize,
  group: i32,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
): void {
  const L = (j1 - j0) >> 2;
  for (let t = 0; t < L; t++) tileI8(m, k, w, scales, group, y, n, j0 + t, L, 4, scratch);
  const rest = j0 + 4 * L;
  if (rest < j1) tileI8(m, k, w, scales, group, y, n, rest, 1, j1 - rest, scratch);
}

/**
 * The four rows j, j + step, j + 2·step, j + 3·step of the INT8 GEMV (the last repeated when `count`
 * < 4, computed but not stored): their i32x4 sums reduced by a transpose (sum4), the group scales
 * applied once per group.
 */
function tileI8(
  m: i32,
  k: i32,
  w: usize,
  scales: usize,
  group: i32,
  y: usize,
  n: i32,
  j: i32,
  step: i32,
  count: i32,
  scratch: usize,
): void {
  const nb = k >> 5;
  const perGroup = group >> 5;
  const G = (k + group - 1) / group;
  const mk = <usize>(m * k);
  const sx = scratch + (mk << 1);
  const rowScales = (<usize>G) << 2;
  const zero = i32x4.splat(0);
  const r1 = j + min(1, count - 1) * step;
  const r2 = j + min(2, count - 1) * step;
  const r3 = j + min(3, count - 1) * step;
  const w0 = w + <usize>j * <usize>k;
  const w1 = w + <usize>r1 * <usize>k;
  const w2 = w + <usize>r2 * <usize>k;
  const w3 = w + <usize>r3 * <usize>k;
  const s0 = scales + <usize>j * rowScales;
  const s1 = scales + <usize>r1 * rowScales;
  const s2 = scales + <usize>r2 * rowScales;
  const s3 = scales + <usize>r3 * rowScales;
  for (let i = 0; i < m; i++) {
    // x's codes: 16-bit (simd build) or 8-bit in two halves mk bytes apart (relaxed, quantizeX8)
    const xq = scratch + (ASC_FEATURE_RELAXED_SIMD ? <usize>(i * k) : (<usize>(i * k)) << 1);
    const xs = sx + ((<usize>(i * nb)) << 2);
    let acc = f32x4.splat(0);
    let q = 0;
    for (let g = 0; g < G; g++) {
      const qe = min(q + perGroup, nb);
      let accg = f32x4.splat(0);
      for (; q < qe; q++) {
        const o = (<usize>q) << 5;
        let s: v128;
        if (ASC_FEATURE_RELAXED_SIMD) {
          const xa = xq + o;
          s = sum4(
            dotSigned(w0 + o, xa, xa + mk),
            dotSigned(w1 + o, xa, xa + mk),
            dotSigned(w2 + o, xa, xa + mk),
            dotSigned(w3 + o, xa, xa + mk),
          );
        } else {
          s = sum4(
            codesDot<i8>(w0 + o, xq + (o << 1), zero),
            codesDot<i8>(w1 + o, xq + (o << 1), zero),
            codesDot<i8>(w2 + o, xq + (o << 1), zero),
            codesDot<i8>(w3 + o, xq + (o << 1), zero),
          );
        }
        accg = f32x4.add(
          accg,
          f32x4.mul(f32x4.convert_i32x4_s(s), v128.load32_splat(xs + ((<usize>q) << 2))),
        );
      }
      const go = (<usize>g) << 2;
      let sc = v128.load32_lane(s0 + go, zero, 0);
      sc = v128.load32_lane(s1 + go, sc, 1);
      sc = v128.load32_lane(s2 + go, sc, 2);
      sc = v128.load32_lane(s3 + go, sc, 3);
      acc = f32x4.add(acc, f32x4.mul(accg, sc));
    }
    const yo = y + ((<usize>(i * n + j)) << 2);
    if (step === 1) storeLanes(yo, acc, count);
    else {
      const ys = (<usize>step) << 2;
      store<f32>(yo, f32x4.extract_lane(acc, 0));
      store<f32>(yo + ys, f32x4.extract_lane(acc, 1));
      store<f32>(yo + 2 * ys, f32x4.extract_lane(acc, 2));
      store<f32>(yo + 3 * ys, f32x4.extract_lane(acc, 3));
    }
  }
}

/**
 * Rows [j0, j1) of the INT8 GEMV with one scale per row (group ≥ k: INT8's default) or per group of a
 * multiple of 128 inputs, x's codes already in `scratch`: one row of W per pass, as the GGUF kernels
 * read (each block's dot past a `fence`); per four 32-blocks (inside one group: groups are whole
 * steps) their dots reduced to four exact totals (sum4), converted once and scaled by x's four block
 * scales, times the group's scale per step, or the row's scale last. Four neighbouring row streams
 * (rowsI8 before its bands) ran at this speed with W in cache but slower from memory: 1 thread, 4096
 * wide, ns per 32-block at 256 / 1024 / 4096 / 11008 rows: 1.56 / 1.52 / 2.01 / 2.03, here 1.60 /
 * 1.49 / 1.57 / 1.60 (Q8_0 in the same runs: 1.60 / 1.48–1.51 / 1.59 / 1.60–1.68); relaxed build at
 * 4096 / 11008: 2.17 / 2.22 → 1.68 / 1.75. Groups of 128 against rowsI8's four banded rows, 2 threads,
 * both in one process by a variant switch, medians of 41 calls, two runs (2026-11-29): 1×4096×4096
 * 0.600–0.661 → 0.546–0.576 ms, 1×4096×11008 1.57–1.66 → 1.48–1.52 ms. Other groups (32, 64, 96, …)
 * keep rowsI8.
 */
function rowsI8One(
  m: i32,
  k: i32,
  w: usize,
  scales: usize,
  group: i32,
  y: usize,
  n: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
): void {
  const nb = k >> 5;
  const nb4 = nb & ~3;
  const mk = <usize>(m * k);
  const sx = scratch + (mk << 1);
  const grouped = group < k;
  const G = grouped ? (k + group - 1) / group : 1;
  const bpg = group >> 5; // 32-blocks per group (a multiple of 4 when grouped)
  for (let j = j0; j < j1; j++) {
    const wj = w + <usize>j * <usize>k;
    const rs = scales + ((<usize>(j * G)) << 2); // the row's scales
    for (let i = 0; i < m; i++) {
      // x's codes: 16-bit, or 8-bit split into two planes in the relaxed build (quantizeX8)
      const xq = scratch + (ASC_FEATURE_RELAXED_SIMD ? <usize>(i * k) : (<usize>(i * k)) << 1);
      const xs = sx + ((<usize>(i * nb)) << 2);
      const yo = y + ((<usize>(i * n + j)) << 2);
      let acc = f32x4.splat(0);
      let sp = rs; // the current group's scale
      let left = bpg; // its blocks not yet read
      let q = 0;
      for (; q < nb4; q += 4) {
        const o = (<usize>q) << 5;
        const d0 = i8Dot(wj + o, xq, o, mk);
        fence(yo, i32x4.extract_lane(d0, 0));
        const d1 = i8Dot(wj + o + 32, xq, o + 32, mk);
        fence(yo, i32x4.extract_lane(d1, 0));
        const d2 = i8Dot(wj + o + 64, xq, o + 64, mk);
        fence(yo, i32x4.extract_lane(d2, 0));
        const d3 = i8Dot(wj + o + 96, xq, o + 96, mk);
        fence(yo, i32x4.extract_lane(d3, 0));
        let d = v128.load(xs + ((<usize>q) << 2));
        if (grouped) {
          d = f32x4.mul(d, v128.load32_splat(sp));
          left -= 4;
          if (left === 0) {
            left = bpg;
            sp += 4;
          }
        }
        acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sum4(d0, d1, d2, d3)), d));
      }
      let tail: f32 = 0;
      for (; q < nb; q++) {
        const o = (<usize>q) << 5;
        let d = load<f32>(xs + ((<usize>q) << 2));
        if (grouped) {
          d *= load<f32>(sp);
          if (--left === 0) {
            left = bpg;
            sp += 4;
          }
        }
        tail += <f32>isum(i8Dot(wj + o, xq, o, mk)) * d;
      }
      const sum = hsum(acc) + tail;
      store<f32>(yo, grouped ? sum : sum * load<f32>(rs));
    }
  }
}

/** i32x4 partial sums of the 32 signed weight bytes at c and x's codes of elements o..o + 31. */
function i8Dot(c: usize, xq: usize, o: usize, mk: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return dotSigned(c, xq + o, xq + o + mk);
  return codesDot<i8>(c, xq + (o << 1), i32x4.splat(0));
}

/** `gemvI8` for k or group not a multiple of 32: codes widened to f32, one row at a time. */
function rowsI8F32(
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
