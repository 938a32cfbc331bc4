// Decode GEMV over 4-bit codebook weights (quant's INT4 / NF4 layout) resident in linear memory
// (AssemblyScript, 128-bit SIMD): y[i, j] = Σ_q x[i, q]·W[j, q], W[j, q] = codebook[code]·scale(j, g).
// Each weight code becomes a small integer: the code itself when the codebook is affine (INT4: c − 8,
// exact), else one byte lookup (i8x16.swizzle) of the codebook's span rounded onto 0..127 (within
// (max − min)/254; NF4's relative RMS weight error on Gaussian blocks of 64 goes from 9.20% to 9.35%).
// x is rounded per x-block (1, 2 or 4 32-blocks inside one group; gemv-nibble-x.ts): in the plain
// build to codes within ±1927 for an affine codebook and to 8-bit codes for a looked-up one, so that
// `dot32` can read whole 16-bit lanes against x codes combined to fit 16 bits; in the relaxed build to
// 8-bit codes for its 8-bit dot (llama.cpp's choice for its 4-bit dots). Those lane reads against the
// masked ones before them, 1 thread, old and new builds alternated, medians of 41 calls: NF4[64]
// 0.88–0.92 of the time at 4096² and 4096×11008 (relative RMS error of y against the decoded weights'
// exact product 4.4e-3 → 9.3e-3, a tenth of NF4's own), INT4[32] 0.93–0.98 (1.5e-5 → 2.7e-4).
// When every x-block is a whole group (groups of 32, 64 or 128 inputs: INT4[32], NF4[64]) and W holds
// ≥ ONE_ROW_MIN_BYTES of codes: one row of W per pass, four x-blocks per f32 step (`rowOne`), as the
// GGUF kernels read (gemv.ts), since four row streams read memory slower than one (in cache the tiles
// are faster). Otherwise tiles of 4 rows; plain build: 2 pairs per x-block (each pair shares its x
// loads; 4 rows at once spill registers in V8 and ran 15–35% slower) of i32x4.dot_i16x8_s; relaxed
// build: 4 rows at once of 8-bit dots (fewer live registers). Integer sums over an x-block, then one
// f32x4 step scales the 4 rows at once. Double-quantised group scales are decoded DQ_ROWS rows at a
// time in f32 (within 1 ulp of JS's f64). Not here: other layouts (gemv.ts), k or group not multiples
// of 32 (dequant.ts, per row).

import { fence } from "./fence";
import { beta, cachedCodebook, unit } from "./gemv-nibble-codebook";
import { FLIP, PAIRS, quantizeX, quantizeX8 } from "./gemv-nibble-x";
import { nextRows, rowsEnd } from "./row-blocks";

/** log2 of x's code bytes per weight byte: i16 codes (4 per byte of two codes); 8-bit (2) in the relaxed build. */
const X_SHIFT: usize = ASC_FEATURE_RELAXED_SIMD ? 1 : 2;

/** 32-blocks per x-block: the largest of 4, 2, 1 that divides the group's blocks `bpg`. */
function xBlock(bpg: i32): i32 {
  return (bpg & 3) === 0 ? 4 : (bpg & 1) === 0 ? 2 : 1;
}

/**
 * Rows whose double-quantised group scales are decoded in one run (`decodeDq`) before their tiles:
 * one call per 64 rows instead of one per 4-row tile. 1 thread, NF4 (dq) calls, old/new build
 * interleaved, medians of 21 × 3000 calls, bit-identical y: 192×192 3.38 → 3.21 µs, 512×192
 * 8.42 → 7.97, 192×512 7.80 → 7.57; 4096² unchanged (1.14 ms).
 */
const DQ_ROWS: i32 = 64;

/**
 * Bytes of codes from which W is read one row per pass (`rowOne`) rather than in 4-row tiles: the one
 * row wins once W streams from beyond L2, the tiles while it sits in cache. `small`'s NF4 decode (its
 * largest matrix 49 KiB), builds alternated, `pnpm bench decode --presets small --no-gemv`: one row
 * always 1658 / 1702 tok/s against tiles' 1916 / 1880; 4096² NF4 and INT4[32] from memory: one row
 * 0.70–0.75 and 0.55–0.58 ms against 0.74–0.94 and 0.76–0.86.
 */
const ONE_ROW_MIN_BYTES: i32 = 1 << 20;

/**
 * Bytes of `gemvNibble` scratch (per thread) for m rows of x of width k (k a multiple of 32, nb = k/32
 * blocks): x's codes as i16 [m, k], a tile's group scales [nb, 4] f32, the 16-byte lookup table and
 * 2 constant vectors, per x-block its scale [m, nb] f32 and integer bias [m, nb] i32, and DQ_ROWS
 * rows' decoded double-quantised scales [DQ_ROWS, nb] f32 (at most nb groups per row).
 */
export function gemvNibbleScratchBytes(m: i32, k: i32): i32 {
  const nb = k >> 5;
  return m * k * 2 + nb * 16 + 48 + m * nb * 8 + DQ_ROWS * nb * 4;
}

/**
 * table[idx] per byte, idx < 16. The relaxed build (`--target relaxed`) uses relaxed_swizzle, which
 * skips V8's range fix-up (a saturating add before each pshufb); for indices < 16 both agree.
 */
function lookup(table: v128, idx: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(table, idx);
  return i8x16.swizzle(table, idx);
}

/**
 * One 32-block of 16 code bytes (byte t: element 2t low nibble, 2t + 1 high) dotted with its x codes
 * x0..x3 (elements 4u, 4u + 2, 4u + 1, 4u + 3): i32x4 partial sums, 8 products per lane. T picks the
 * decode at compile time.
 * - u16 (an affine codebook) takes the codes as they are, elements 4u + f in nibble field f of i16 lane
 *   u, as Q4_0's kernel does (gemv.ts): the lane with its top bit flipped, L = c₀ + 16c₁ + 256c₂ +
 *   4096(c₃ − 8), shifted arithmetically by 0, 4, 8 and 12 gives Sₜ = Σ_{f ≥ t} 16^(f−t)·c_f (c₃ − 8
 *   in place of c₃); with x's codes stored as y₀ = x₀, yₜ = xₜ − 16·xₜ₋₁ (`quantizeX` FLIP, codes
 *   within ±1927 so that yₜ fits 16 bits), Σ Sₜ·yₜ = c₀x₀ + c₁x₁ + c₂x₂ + (c₃ − 8)x₃, the −8·x₃ put
 *   back in the x-block's bias. One XOR and three shifts where three masks and three shifts were.
 * - u8 looks each code up in `table` (values 0..127) and reads each looked-up i16 lane raw,
 *   L = t₀ + 256·t₁ (two table values), and shifted, L >> 8 = t₁: with x's codes stored as x0 and
 *   x1 − 256·x0 (`quantizeX` PAIRS, 8-bit codes), L·x0 + t₁·(x1 − 256·x0) = t₀·x0 + t₁·x1, one shift
 *   per lookup where splitting the bytes took a mask and a shift.
 */
function dot32<T>(bytes: v128, table: v128, m1: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  let a: v128, b: v128, c: v128, d: v128;
  if (sizeof<T>() === 1) {
    // m1: 0x0f per byte
    a = lookup(table, v128.and(bytes, m1)); // elements 2t
    c = lookup(table, v128.and(i16x8.shr_u(bytes, 4), m1)); // 2t + 1
    b = i16x8.shr_u(a, 8);
    d = i16x8.shr_u(c, 8);
  } else {
    // m1: 0x8000 per i16
    a = v128.xor(bytes, m1);
    b = i16x8.shr_s(a, 4);
    c = i16x8.shr_s(a, 8);
    d = i16x8.shr_s(a, 12);
  }
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(a, x0), i32x4.dot_i16x8_s(b, x1)),
    i32x4.add(i32x4.dot_i16x8_s(c, x2), i32x4.dot_i16x8_s(d, x3)),
  );
}

// The relaxed build's 32-block dot (8-bit products, i16x8.relaxed_dot_i8x16_i7x16_s): its second
// operand must lie in [0, 127] for a deterministic result (V8 x64 lowers it to pmaddubsw, whose
// unsigned operand it is), so it is the weight's table value (INT4's code 0..15, or the codebook's span
// mapped onto 0..127) and x the signed side; |pair sums| ≤ 2·127·127 < 2^15, so pmaddubsw never
// saturates. Per 32-block and row: 2 lookups (none for INT4), 2 pmaddubsw and 2 pmaddwd by ones,
// against 4 pmaddwd on unpacked i16 lanes in the plain build. INT4's codes are 0..15, so its two pair
// dots (each |·| ≤ 2·15·127) add exactly in i16 before ONE pmaddwd, as the Q4_0 dot does
// (gemv-dot8.ts): 2 threads, INT4[32], builds alternated in one process by a variant switch, medians
// of 41 calls, three runs, 2026-11-29: 4096² 0.417–0.430 → 0.411–0.417 ms, 4096×11008 1.06–1.09 →
// 1.00–1.06 ms, the same y bit for bit (the integer sums are the same). Not i32x4.relaxed_dot_i8x16_i7x16_add_s,
// the one-op form: Node 20's V8 (11.3) returns twice the sum from it (measured: [127, −5, 3, 0] ·
// [9, 8, 100, 7] with c = 0 gave 2806, not 1403).

/**
 * acc + one 32-block of 16 code bytes (byte t: element 2t low nibble, 2t + 1 high) dotted with its x
 * codes xe (even elements) and xo (odd): 8 products per i32 lane. T picks the decode at compile time:
 * u8 looks each code up in `table` (values 0..127), u16 takes the codes as they are (INT4). `ones`:
 * 1 per i16 lane.
 */
function dot8<T>(bytes: v128, table: v128, m1: v128, ones: v128, xe: v128, xo: v128, acc: v128): v128 {
  let lo = v128.and(bytes, m1); // m1: 0x0f per byte
  let hi = v128.and(i16x8.shr_u(bytes, 4), m1);
  if (sizeof<T>() === 1) {
    lo = i8x16.relaxed_swizzle(table, lo);
    hi = i8x16.relaxed_swizzle(table, hi);
  }
  const pl = i16x8.relaxed_dot_i8x16_i7x16_s(xe, lo);
  const ph = i16x8.relaxed_dot_i8x16_i7x16_s(xo, hi);
  // INT4: |pl + ph| ≤ 4·15·127 fits i16 (see above)
  if (sizeof<T>() === 2) return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.add(pl, ph), ones));
  return i32x4.add(acc, i32x4.add(i32x4.dot_i16x8_s(pl, ones), i32x4.dot_i16x8_s(ph, ones)));
}

/**
 * The integer sums of one x-block's 32-blocks at byte offsets [o, end) of rows w0..w3 with x's 8-bit
 * codes at xq (32 bytes per 16 weight bytes), reduced to [Σ row 0, …, Σ row 3] (i32x4). All four rows
 * in one pass: each row needs 2 registers beside its sum, so nothing spills.
 */
function blockSums8<T>(
  o: usize,
  end: usize,
  w0: usize,
  w1: usize,
  w2: usize,
  w3: usize,
  xq: usize,
  table: v128,
  m1: v128,
  ones: v128,
): v128 {
  let d0 = i32x4.splat(0);
  let d1 = i32x4.splat(0);
  let d2 = i32x4.splat(0);
  let d3 = i32x4.splat(0);
  do {
    const xb = xq + (o << 1);
    const xe = v128.load(xb);
    const xo = v128.load(xb, 16);
    d0 = dot8<T>(v128.load(w0 + o), table, m1, ones, xe, xo, d0);
    d1 = dot8<T>(v128.load(w1 + o), table, m1, ones, xe, xo, d1);
    d2 = dot8<T>(v128.load(w2 + o), table, m1, ones, xe, xo, d2);
    d3 = dot8<T>(v128.load(w3 + o), table, m1, ones, xe, xo, d3);
    o += 16;
  } while (o < end);
  const ab = i32x4.add(v128.shuffle<i64>(d0, d1, 0, 2), v128.shuffle<i64>(d0, d1, 1, 3));
  const cd = i32x4.add(v128.shuffle<i64>(d2, d3, 0, 2), v128.shuffle<i64>(d2, d3, 1, 3));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 2, 4, 6), v128.shuffle<i32>(ab, cd, 1, 3, 5, 7));
}

/** [Σ lanes of a, Σ b, Σ c, Σ d] (i32x4). */
function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i64>(a, b, 0, 2), v128.shuffle<i64>(a, b, 1, 3));
  const cd = i32x4.add(v128.shuffle<i64>(c, d, 0, 2), v128.shuffle<i64>(c, d, 1, 3));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 2, 4, 6), v128.shuffle<i32>(ab, cd, 1, 3, 5, 7));
}

/**
 * Double-quantised group scales t0..t0+G−1 into `out` (f32): code·chunkScale + mean in f32, 16 at a
 * time (4 when fewer are left) while they share a chunk; the chunk is tracked by a running count
 * instead of a division per group. Each scale is within 1 ulp of the JS decoder's (f64, rounded once):
 * the GEMV rounds x to 8- or 16-bit codes, far coarser. The f64 arithmetic, 4 at a time, cost NF4[64]
 * 13% of its GEMV (skipping the decode entirely: 0.610 against 0.692 ms). 2 threads, 4096², builds
 * alternated in one process by a variant switch, medians of 41 calls, 2026-11-29: 0.595–0.736 →
 * 0.566–0.660 ms (f64 16 at a time: 0.589–0.592).
 */
function decodeDq(
  out: usize,
  t0: i32,
  G: i32,
  chunkScales: usize,
  dqCodes: usize,
  dqChunk: i32,
  dqMean: f64,
): void {
  let chunk = t0 / dqChunk;
  let rem = dqChunk - (t0 - chunk * dqChunk); // groups left in this chunk
  let cs = load<f32>(chunkScales + ((<usize>chunk) << 2));
  let csv = f32x4.splat(cs);
  const mean = <f32>dqMean;
  const meanv = f32x4.splat(mean);
  let g = 0;
  while (g < G) {
    if (rem === 0) {
      chunk++;
      rem = dqChunk;
      cs = load<f32>(chunkScales + ((<usize>chunk) << 2));
      csv = f32x4.splat(cs);
    }
    const at = dqCodes + <usize>(t0 + g);
    const o = out + ((<usize>g) << 2);
    if (g + 16 <= G && rem >= 16) {
      const b = v128.load(at); // 16 codes
      const lo = i16x8.extend_low_i8x16_s(b);
      const hi = i16x8.extend_high_i8x16_s(b);
      v128.store(o, dqScales(i32x4.extend_low_i16x8_s(lo), csv, meanv));
      v128.store(o, dqScales(i32x4.extend_high_i16x8_s(lo), csv, meanv), 16);
      v128.store(o, dqScales(i32x4.extend_low_i16x8_s(hi), csv, meanv), 32);
      v128.store(o, dqScales(i32x4.extend_high_i16x8_s(hi), csv, meanv), 48);
      g += 16;
      rem -= 16;
    } else if (g + 4 <= G && rem >= 4) {
      const c = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_splat(at))); // 4 codes
      v128.store(o, dqScales(c, csv, meanv));
      g += 4;
      rem -= 4;
    } else {
      store<f32>(o, <f32>load<i8>(at) * cs + mean);
      g++;
      rem--;
    }
  }
}

/** Four codes (i32x4) as scales code·cs + mean (f32x4). */
function dqScales(codes: v128, cs: v128, mean: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(codes), cs), mean);
}

/**
 * The group scales of rows r0..r3 (G each, f32 [·, G] at `scales`) times `unit` into the tile's
 * [G, 4] table `sbuf`, transposed 4 groups at a time.
 */
function tileScales(sbuf: usize, r0: i32, r1: i32, r2: i32, r3: i32, G: i32, scales: usize): void {
  const a = scales + ((<usize>(r0 * G)) << 2);
  const b = scales + ((<usize>(r1 * G)) << 2);
  const c = scales + ((<usize>(r2 * G)) << 2);
  const d = scales + ((<usize>(r3 * G)) << 2);
  const u = f32x4.splat(<f32>unit);
  let g = 0;
  for (; g + 4 <= G; g += 4) {
    const o = (<usize>g) << 2;
    const va = v128.load(a + o);
    const vb = v128.load(b + o);
    const vc = v128.load(c + o);
    const vd = v128.load(d + o);
    const ab01 = v128.shuffle<i32>(va, vb, 0, 4, 1, 5);
    const ab23 = v128.shuffle<i32>(va, vb, 2, 6, 3, 7);
    const cd01 = v128.shuffle<i32>(vc, vd, 0, 4, 1, 5);
    const cd23 = v128.shuffle<i32>(vc, vd, 2, 6, 3, 7);
    const out = sbuf + ((<usize>g) << 4);
    v128.store(out, f32x4.mul(v128.shuffle<i64>(ab01, cd01, 0, 2), u));
    v128.store(out, f32x4.mul(v128.shuffle<i64>(ab01, cd01, 1, 3), u), 16);
    v128.store(out, f32x4.mul(v128.shuffle<i64>(ab23, cd23, 0, 2), u), 32);
    v128.store(out, f32x4.mul(v128.shuffle<i64>(ab23, cd23, 1, 3), u), 48);
  }
  for (; g < G; g++) {
    const o = (<usize>g) << 2;
    const s = f32x4.replace_lane(
      f32x4.replace_lane(
        f32x4.replace_lane(f32x4.splat(load<f32>(a + o)), 1, load<f32>(b + o)),
        2,
        load<f32>(c + o),
      ),
      3,
      load<f32>(d + o),
    );
    v128.store(sbuf + ((<usize>g) << 4), f32x4.mul(s, u));
  }
}

/**
 * y for 4 rows (w0..w3) and one row of x (codes at xq): Σ over x-blocks of (block sums + bias) ·
 * rowScales · sx. An x-block is `bpx` 32-blocks (the row's last one may be shorter), `gpx` per group.
 */
function tileRow<T>(
  bpx: i32,
  nb: i32,
  gpx: i32,
  w0: usize,
  w1: usize,
  w2: usize,
  w3: usize,
  xq: usize,
  xs: usize,
  xbias: usize,
  sbuf: usize,
  table: v128,
  m1: v128,
  m2: v128,
  at: usize,
): v128 {
  let acc = f32x4.splat(0);
  const rowBytes = (<usize>nb) << 4;
  const step = (<usize>bpx) << 4;
  let o: usize = 0; // byte offset in each row of W (x's codes: 4·o)
  let e: usize = 0; // byte offset of the x-block's scale and bias
  let sp = sbuf;
  let left = gpx;
  while (o < rowBytes) {
    const end = min(o + step, rowBytes);
    let d: v128;
    if (ASC_FEATURE_RELAXED_SIMD) {
      d = blockSums8<T>(o, end, w0, w1, w2, w3, xq, table, m1, m2);
      o = end;
    } else if (bpx === 1) {
      // One 32-block per x-block (INT4 / NF4 with an odd number of 32-blocks per group, e.g.
      // INT4[32]): all four rows on one load of x, each row's dot past a fence (fence.ts), instead of
      // two row pairs of one-iteration loops. 1 thread, 4096², W in cache, medians of 41 interleaved
      // calls in 3 runs: INT4[32] 0.90–0.96 → 0.80–0.83 ms (without the fences: slower than before).
      const xb = xq + (o << 2);
      const x0 = v128.load(xb);
      const x1 = v128.load(xb, 16);
      const x2 = v128.load(xb, 32);
      const x3 = v128.load(xb, 48);
      const d0 = dot32<T>(v128.load(w0 + o), table, m1, x0, x1, x2, x3);
      fence(at, i32x4.extract_lane(d0, 0));
      const d1 = dot32<T>(v128.load(w1 + o), table, m1, x0, x1, x2, x3);
      fence(at, i32x4.extract_lane(d1, 0));
      const d2 = dot32<T>(v128.load(w2 + o), table, m1, x0, x1, x2, x3);
      fence(at, i32x4.extract_lane(d2, 0));
      d = sum4(d0, d1, d2, dot32<T>(v128.load(w3 + o), table, m1, x0, x1, x2, x3));
      o = end;
    } else {
      let d0 = i32x4.splat(0);
      let d1 = i32x4.splat(0);
      let d2 = i32x4.splat(0);
      let d3 = i32x4.splat(0);
      const o0 = o;
      // rows 0 and 1, then rows 2 and 3, over the x-block's 32-blocks
      do {
        const xb = xq + (o << 2);
        const x0 = v128.load(xb);
        const x1 = v128.load(xb, 16);
        const x2 = v128.load(xb, 32);
        const x3 = v128.load(xb, 48);
        d0 = i32x4.add(d0, dot32<T>(v128.load(w0 + o), table, m1, x0, x1, x2, x3));
        d1 = i32x4.add(d1, dot32<T>(v128.load(w1 + o), table, m1, x0, x1, x2, x3));
        o += 16;
      } while (o < end);
      o = o0;
      do {
        const xb = xq + (o << 2);
        const x0 = v128.load(xb);
        const x1 = v128.load(xb, 16);
        const x2 = v128.load(xb, 32);
        const x3 = v128.load(xb, 48);
        d2 = i32x4.add(d2, dot32<T>(v128.load(w2 + o), table, m1, x0, x1, x2, x3));
        d3 = i32x4.add(d3, dot32<T>(v128.load(w3 + o), table, m1, x0, x1, x2, x3));
        o += 16;
      } while (o < end);
      d = sum4(d0, d1, d2, d3);
    }
    d = i32x4.add(d, i32x4.splat(load<i32>(xbias + e)));
    const s = f32x4.mul(v128.load(sp), f32x4.splat(load<f32>(xs + e)));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(d), s));
    e += 4;
    if (--left === 0) {
      left = gpx;
      sp += 16;
    }
  }
  return acc;
}

/**
 * y for ONE row of W (bytes at `wj`, its group scales at `rs`, f32 [G]) and one row of x (codes at xq),
 * when every x-block is a whole group (gpx = 1) and W is large (ONE_ROW_MIN_BYTES): four x-blocks per step, their integer sums (each
 * 32-block's dot past a `fence`) reduced to four totals (sum4), biased, converted once and scaled by the
 * four groups' scales · unit · sx (both contiguous); the x-blocks past the last whole step (and a
 * shorter last one) one at a time. One W stream per pass, as the GGUF kernels read (gemv.ts): four row
 * streams ran at the kernel's in-cache speed but slower from memory (1 thread, 4096 wide, ns per
 * 32-block at 256 / 1024 / 4096 / 11008 rows: INT4[32] tiles 1.61 / 1.47 / 1.85 / 2.03, against Q4_0's
 * one-row 1.70 / 1.53 / 1.65 / 1.67; one row here: 1.56 / 1.44 / 1.51 / 1.54; NF4[64] 1.96–2.20 before
 * and after, its lookups bound it). 2 threads, `pnpm bench decode`, 4096² / 4096×11008, two runs of
 * each build alternated: INT4[32] 0.76–0.86 → 0.55–0.58 ms and 1.88–2.01 → 1.50–1.56; NF4 0.74–0.94 →
 * 0.72–0.75 and 1.95–2.03 → 1.72–1.86. The relaxed build, whose 8-bit dots ran four rows at once
 * (`blockSums8`, still its path for other groups), 1 thread, ns per 32-block at 4096 / 11008 rows:
 * INT4[32] 1.72 / 2.23 → 1.37 / 1.36, NF4[64] 1.38 / 1.63 → 1.37 / 1.40.
 */
function rowOne<T>(
  bpx: i32,
  nb: i32,
  wj: usize,
  rs: usize,
  xq: usize,
  xs: usize,
  xbias: usize,
  table: v128,
  m1: v128,
  m2: v128,
  at: usize,
): f32 {
  const rowBytes = (<usize>nb) << 4;
  const step = (<usize>bpx) << 4;
  const nxb = (nb + bpx - 1) / bpx; // the last x-block may be shorter
  const full = nb / bpx;
  const u = f32x4.splat(<f32>unit);
  let acc = f32x4.splat(0);
  let o: usize = 0;
  let q = 0;
  for (; q + 4 <= full; q += 4) {
    // unrolled for the usual x-blocks (one or two 32-blocks), so V8 keeps the step in registers; the
    // blocks at constant offsets from one W and one x pointer, which become the loads' immediates
    let d0: v128, d1: v128, d2: v128, d3: v128;
    const pw = wj + o;
    const px = xq + (o << X_SHIFT);
    if (bpx === 1) {
      d0 = fencedDot<T>(pw, px, table, m1, m2, at);
      d1 = fencedDot<T>(pw + 16, px + (16 << X_SHIFT), table, m1, m2, at);
      d2 = fencedDot<T>(pw + 32, px + (32 << X_SHIFT), table, m1, m2, at);
      d3 = fencedDot<T>(pw + 48, px + (48 << X_SHIFT), table, m1, m2, at);
    } else if (bpx === 2) {
      d0 = i32x4.add(
        fencedDot<T>(pw, px, table, m1, m2, at),
        fencedDot<T>(pw + 16, px + (16 << X_SHIFT), table, m1, m2, at),
      );
      d1 = i32x4.add(
        fencedDot<T>(pw + 32, px + (32 << X_SHIFT), table, m1, m2, at),
        fencedDot<T>(pw + 48, px + (48 << X_SHIFT), table, m1, m2, at),
      );
      d2 = i32x4.add(
        fencedDot<T>(pw + 64, px + (64 << X_SHIFT), table, m1, m2, at),
        fencedDot<T>(pw + 80, px + (80 << X_SHIFT), table, m1, m2, at),
      );
      d3 = i32x4.add(
        fencedDot<T>(pw + 96, px + (96 << X_SHIFT), table, m1, m2, at),
        fencedDot<T>(pw + 112, px + (112 << X_SHIFT), table, m1, m2, at),
      );
    } else {
      d0 = xBlockSum<T>(o, o + step, wj, xq, table, m1, m2, at);
      d1 = xBlockSum<T>(o + step, o + 2 * step, wj, xq, table, m1, m2, at);
      d2 = xBlockSum<T>(o + 2 * step, o + 3 * step, wj, xq, table, m1, m2, at);
      d3 = xBlockSum<T>(o + 3 * step, o + 4 * step, wj, xq, table, m1, m2, at);
    }
    const e = (<usize>q) << 2;
    const d = i32x4.add(sum4(d0, d1, d2, d3), v128.load(xbias + e));
    const s = f32x4.mul(f32x4.mul(v128.load(rs + e), u), v128.load(xs + e));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(d), s));
    o += step << 2;
  }
  let tail: f32 = 0;
  for (; q < nxb; q++) {
    const e = (<usize>q) << 2;
    const d = xBlockSum<T>(o, min(o + step, rowBytes), wj, xq, table, m1, m2, at);
    const t =
      i32x4.extract_lane(d, 0) +
      i32x4.extract_lane(d, 1) +
      i32x4.extract_lane(d, 2) +
      i32x4.extract_lane(d, 3);
    tail += <f32>(t + load<i32>(xbias + e)) * (<f32>(load<f32>(rs + e) * <f32>unit) * load<f32>(xs + e));
    o += step;
  }
  return (
    f32x4.extract_lane(acc, 0) +
    f32x4.extract_lane(acc, 1) +
    (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3)) +
    tail
  );
}

/**
 * i32x4 partial sums of the 32-block of weight bytes at pw with x's codes at px, past a `fence`
 * (fence.ts): x codes as i16 (4 bytes per weight byte) and `dot32`, or in the relaxed build 8-bit ones
 * (2 per weight byte) and `dot8` (m2: its ones).
 */
function fencedDot<T>(pw: usize, px: usize, table: v128, m1: v128, m2: v128, at: usize): v128 {
  let d: v128;
  if (ASC_FEATURE_RELAXED_SIMD) {
    d = dot8<T>(v128.load(pw), table, m1, m2, v128.load(px), v128.load(px, 16), i32x4.splat(0));
  } else {
    const x0 = v128.load(px);
    const x1 = v128.load(px, 16);
    const x2 = v128.load(px, 32);
    const x3 = v128.load(px, 48);
    d = dot32<T>(v128.load(pw), table, m1, x0, x1, x2, x3);
  }
  fence(at, i32x4.extract_lane(d, 0));
  return d;
}

/** i32x4 partial sums of one x-block (32-blocks at byte offsets [o, end) of the row at wj). */
function xBlockSum<T>(
  o: usize,
  end: usize,
  wj: usize,
  xq: usize,
  table: v128,
  m1: v128,
  m2: v128,
  at: usize,
): v128 {
  let d = i32x4.splat(0);
  do {
    d = i32x4.add(d, fencedDot<T>(wj + o, xq + (o << X_SHIFT), table, m1, m2, at));
    o += 16;
  } while (o < end);
  return d;
}

function tiles<T>(
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
  dqCodes: usize,
  dqChunk: i32,
  dqMean: f64,
): void {
  const nb = k >> 5;
  const G = (k + group - 1) / group; // the last group of a row may be shorter
  const bpg = group >> 5;
  const bpx = xBlock(bpg);
  const gpx = bpg / bpx;
  const sbuf = scratch + ((<usize>(m * k)) << 1);
  const table = v128.load(sbuf + ((<usize>nb) << 4));
  const m1 = v128.load(sbuf + ((<usize>nb) << 4), 16);
  const m2 = v128.load(sbuf + ((<usize>nb) << 4), 32);
  const sx = sbuf + ((<usize>nb) << 4) + 48;
  const bias = sx + ((<usize>(m * nb)) << 2);
  const tmp = bias + ((<usize>(m * nb)) << 2);
  const half = <usize>(k >> 1);
  if (gpx === 1 && n * (k >> 1) >= ONE_ROW_MIN_BYTES) {
    // one row per pass (rowOne); double-quantised scales decoded DQ_ROWS rows at a time into tmp
    for (let j = j0; j < j1; j++) {
      let rs: usize;
      if (dqCodes === 0) rs = scales + ((<usize>(j * G)) << 2);
      else {
        const jb = j0 + ((j - j0) / DQ_ROWS) * DQ_ROWS;
        if (j === jb) decodeDq(tmp, jb * G, min(DQ_ROWS, j1 - jb) * G, scales, dqCodes, dqChunk, dqMean);
        rs = tmp + ((<usize>((j - jb) * G)) << 2);
      }
      const wj = w + <usize>j * half;
      for (let i = 0; i < m; i++) {
        const xq = scratch + (ASC_FEATURE_RELAXED_SIMD ? <usize>(i * k) : (<usize>(i * k)) << 1);
        const xs = sx + ((<usize>(i * nb)) << 2);
        const xbias = bias + ((<usize>(i * nb)) << 2);
        const yo = y + ((<usize>(i * n + j)) << 2);
        store<f32>(yo, rowOne<T>(bpx, nb, wj, rs, xq, xs, xbias, table, m1, m2, yo));
      }
    }
    return;
  }
  for (let j = j0; j < j1; j += 4) {
    // rows j..j+3, the last ones repeated past j1 (computed, not stored)
    const r1 = min(j + 1, j1 - 1);
    const r2 = min(j + 2, j1 - 1);
    const r3 = min(j + 3, j1 - 1);
    if (dqCodes === 0) tileScales(sbuf, j, r1, r2, r3, G, scales);
    else {
      // double-quantised: the scales of DQ_ROWS rows from j0 on decoded in one run into tmp
      const jb = j0 + ((j - j0) / DQ_ROWS) * DQ_ROWS;
      if (j === jb) decodeDq(tmp, jb * G, min(DQ_ROWS, j1 - jb) * G, scales, dqCodes, dqChunk, dqMean);
      tileScales(sbuf, j - jb, r1 - jb, r2 - jb, r3 - jb, G, tmp);
    }
    const w0 = w + <usize>j * half;
    const w1 = w + <usize>r1 * half;
    const w2 = w + <usize>r2 * half;
    const w3 = w + <usize>r3 * half;
    for (let i = 0; i < m; i++) {
      const xq = scratch + (ASC_FEATURE_RELAXED_SIMD ? <usize>(i * k) : (<usize>(i * k)) << 1);
      const xs = sx + ((<usize>(i * nb)) << 2);
      const xbias = bias + ((<usize>(i * nb)) << 2);
      const yo = y + ((<usize>(i * n + j)) << 2);
      const acc = tileRow<T>(bpx, nb, gpx, w0, w1, w2, w3, xq, xs, xbias, sbuf, table, m1, m2, yo);
      if (j + 3 < j1) v128.store(yo, acc);
      else {
        store<f32>(yo, f32x4.extract_lane(acc, 0));
        if (j + 1 < j1) store<f32>(yo, f32x4.extract_lane(acc, 1), 4);
        if (j + 2 < j1) store<f32>(yo, f32x4.extract_lane(acc, 2), 8);
      }
    }
  }
}

/**
 * 4-bit codebook W [n, k] (k/2 bytes per row, element 2t in the LOW nibble of byte t; value
 * codebook[code]·scale(j, ⌊c / group⌋)): y[i·n + j] = Σ_q x[i, q]·W[j, q] for j0 ≤ j < j1 (in one go, or
 * in blocks of `chunk` rows from the shared atomic `counter`: row-blocks.ts). Scales
 * [n, ⌈k/group⌉]: f32 at `scales` when `dqCodes` is 0, else double-quantised: scale of group index
 * t = j·G + g is dqCodes[t] (i8) · scales[⌊t / dqChunk⌋] + dqMean (computed in f32, within 1 ulp
 * of the JS decoder's f64 rounded once). k and group multiples of 32. `scratch`:
 * gemvNibbleScratchBytes(m, k).
 * Error vs the exact sum of the decoded weights: x rounded per x-block (up to 128 inputs) to codes
 * within ±1927 for an affine codebook in the plain build (≤ absmax/3854 each), else to 8-bit codes
 * (≤ absmax/254 each), and, unless the codebook is affine, each codebook value rounded to
 * (max − min)/127 steps (≤ (max − min)/254 each); f32 rounding of the per-x-block partial sums and
 * of double-quantised scales.
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
  counter: usize,
  chunk: i32,
): void {
  const nb = k >> 5;
  const sbuf = scratch + ((<usize>(m * k)) << 1);
  const tableAt = sbuf + ((<usize>nb) << 4);
  const affine = cachedCodebook(codebook, tableAt);
  // the unpacking masks, loaded from memory so that they stay in registers across the loops
  if (ASC_FEATURE_RELAXED_SIMD) {
    v128.store(tableAt, i8x16.splat(0x0f), 16);
    v128.store(tableAt, i16x8.splat(1), 32); // m2: blockSums8's ones
  } else if (affine) {
    v128.store(tableAt, i16x8.splat(-0x8000), 16);
  } else {
    v128.store(tableAt, i8x16.splat(0x0f), 16);
  }
  const sx = tableAt + 48;
  const bias = sx + ((<usize>(m * nb)) << 2);
  const bpx = xBlock(group >> 5);
  if (ASC_FEATURE_RELAXED_SIMD) quantizeX8(m, k, x, scratch, sx, bias, bpx, beta);
  else if (affine) quantizeX(m, k, x, scratch, sx, bias, bpx, beta, FLIP);
  else quantizeX(m, k, x, scratch, sx, bias, bpx, beta, PAIRS);
  for (let a = nextRows(counter, chunk, j0, j1, -1); a < j1; a = nextRows(counter, chunk, j0, j1, a)) {
    const b = rowsEnd(counter, chunk, j1, a);
    if (affine) tiles<u16>(m, k, w, scales, group, y, n, a, b, scratch, dqCodes, dqChunk, dqMean);
    else tiles<u8>(m, k, w, scales, group, y, n, a, b, scratch, dqCodes, dqChunk, dqMean);
  }
}
