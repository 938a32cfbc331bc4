// Dequantising matmul inner loops for the quant package's weight formats (AssemblyScript, SIMD):
// y[i, j] = Σ_q x[i, q] · W[j, q] with W stored row by row as GGUF Q8_0 / Q4_0 blocks or as 4-bit
// codes into a 16-value codebook with one f32 scale per group (quant's INT4 and NF4 layout). Each
// weight row is decoded once into an f32 scratch row and dotted with every row of x.
// Not here: quantising (the quant package does it), codebook values (passed in) or autograd.
import { dot } from "./simd";

/**
 * IEEE binary16 bits → f32 (exact; subnormals, ±Inf and NaN kept). For a finite half its 15 exponent
 * and mantissa bits moved up into f32's place read as an f32 exactly 2^112 times too small (biases 15
 * vs 127; a half subnormal becomes an f32 subnormal with the same mantissa), so one exact product by
 * 2^112 finishes it: a few integer ops and a multiply, no branch on the exponent's value (one scale
 * per 32 weights in the row decoders here and in the GGUF GEMVs' last k/32 mod 4 blocks).
 */
export function halfToFloat(h: u32): f32 {
  const sign = (h & 0x8000) << 16;
  if ((h & 0x7c00) === 0x7c00) return reinterpret<f32>(sign | 0x7f800000 | ((h & 0x3ff) << 13));
  return reinterpret<f32>(sign | ((h & 0x7fff) << 13)) * reinterpret<f32>(0x77800000); // × 2^112
}

/** Q8_0 row (k/32 blocks of [f16 d, 32 × i8 q], 34 B): out[t] = d · q[t]. k must be a multiple of 32. */
export function dequantRowQ8_0(w: usize, k: i32, out: usize): void {
  for (let blk = 0; blk < k; blk += 32) {
    const d = f32x4.splat(halfToFloat(<u32>load<u16>(w)));
    const qs = w + 2;
    const o = out + <usize>(blk * 4);
    for (let t = 0; t < 32; t += 8) {
      const q16 = v128.load8x8_s(qs + <usize>t);
      v128.store(o + <usize>(t * 4), f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q16))));
      v128.store(o + <usize>(t * 4), f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q16))), 16);
    }
    w += 34;
  }
}

/**
 * Q4_0 row (k/32 blocks of [f16 d, 16 B nibbles], 18 B): byte t holds element t in its low nibble and
 * element t+16 in its high nibble; value = d · (nibble − 8) (ggml's block_q4_0). k a multiple of 32.
 */
export function dequantRowQ4_0(w: usize, k: i32, out: usize): void {
  const mask = i8x16.splat(0x0f);
  const eight = i8x16.splat(8);
  for (let blk = 0; blk < k; blk += 32) {
    const d = f32x4.splat(halfToFloat(<u32>load<u16>(w)));
    const bytes = v128.load(w + 2);
    const lo = i8x16.sub(v128.and(bytes, mask), eight); // elements 0..15
    const hi = i8x16.sub(i8x16.shr_u(bytes, 4), eight); // elements 16..31
    const o = out + <usize>(blk * 4);
    store16(o, lo, d);
    store16(o + 64, hi, d);
    w += 18;
  }
}

/** 16 signed bytes → 16 f32 scaled by d, stored at o. */
function store16(o: usize, q8: v128, d: v128): void {
  const a = i16x8.extend_low_i8x16_s(q8);
  const b = i16x8.extend_high_i8x16_s(q8);
  v128.store(o, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(a))));
  v128.store(o, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(a))), 16);
  v128.store(o, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(b))), 32);
  v128.store(o, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(b))), 48);
}

/**
 * 4-bit codebook row: ⌈k/2⌉ bytes, byte t holds element 2t in its LOW nibble and 2t+1 in its high
 * nibble (the quant package's layout; an odd k leaves the last high nibble unused); value =
 * codebook[code] · scales[⌊col / group⌋]. `codebook` is 16 f32; `scales` this row's ⌈k / group⌉ f32
 * (the last group may be shorter). `lut` is 16 f32 of scratch for one group's scaled codebook.
 */
export function dequantRowNibble(
  w: usize,
  k: i32,
  codebook: usize,
  scales: usize,
  group: i32,
  lut: usize,
  out: usize,
): void {
  for (let g0 = 0; g0 < k; g0 += group) {
    const sv = f32x4.splat(load<f32>(scales));
    scales += 4;
    for (let c = 0; c < 64; c += 16)
      v128.store(lut + <usize>c, f32x4.mul(v128.load(codebook + <usize>c), sv));
    const g1 = min(k, g0 + group);
    let t = g0;
    if ((t & 1) === 1) {
      // a group starting mid-byte (odd group size): its first element is the high nibble
      store<f32>(
        out + <usize>(t * 4),
        load<f32>(lut + <usize>((<u32>load<u8>(w + <usize>(t >> 1)) >> 4) << 2)),
      );
      t++;
    }
    for (; t + 1 < g1; t += 2) {
      const byte = <u32>load<u8>(w + <usize>(t >> 1));
      store<f32>(out + <usize>(t * 4), load<f32>(lut + <usize>((byte & 15) << 2)));
      store<f32>(out + <usize>(t * 4), load<f32>(lut + <usize>((byte >> 4) << 2)), 4);
    }
    if (t < g1)
      store<f32>(
        out + <usize>(t * 4),
        load<f32>(lut + <usize>((<u32>load<u8>(w + <usize>(t >> 1)) & 15) << 2)),
      );
  }
}

/** INT8 row: k signed bytes, value = q[t] · scales[⌊t / group⌋] (the quant package's INT8 layout). */
function dequantRowI8(w: usize, k: i32, scales: usize, group: i32, out: usize): void {
  for (let g0 = 0; g0 < k; g0 += group) {
    const g1 = min(g0 + group, k);
    const s = load<f32>(scales + <usize>((g0 / group) << 2));
    const d = f32x4.splat(s);
    let t = g0;
    for (; t + 8 <= g1; t += 8) {
      const q16 = v128.load8x8_s(w + <usize>t);
      const o = out + <usize>(t * 4);
      v128.store(o, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q16))));
      v128.store(o, f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q16))), 16);
    }
    for (; t < g1; t++) store<f32>(out + <usize>(t * 4), <f32>load<i8>(w + <usize>t) * s);
  }
}

/**
 * FP16 (bf = false) or BF16 row: k two-byte floats → f32, exact for every bit pattern. Four at a time:
 * BF16 is the top half of an f32; a finite half's 15 bits moved up into f32's place are 2^112 too small
 * (`halfToFloat`), and exponent 31 (±Inf, NaN) is selected apart.
 */
function dequantRow16(w: usize, k: i32, out: usize, bf: bool): void {
  let t = 0;
  for (; t + 4 <= k; t += 4) {
    const h = i32x4.extend_low_i16x8_u(v128.load64_zero(w + <usize>(t << 1)));
    const o = out + <usize>(t << 2);
    if (bf) {
      v128.store(o, i32x4.shl(h, 16));
      continue;
    }
    const sign = i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16);
    const mag = i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13);
    const finite = f32x4.mul(v128.or(sign, mag), f32x4.splat(reinterpret<f32>(0x77800000))); // × 2^112
    const special = i32x4.ge_s(mag, i32x4.splat(0x7c00 << 13));
    if (v128.any_true(special)) {
      const inf = v128.or(
        v128.or(sign, i32x4.splat(0x7f800000)),
        i32x4.shl(v128.and(h, i32x4.splat(0x3ff)), 13),
      );
      v128.store(o, v128.bitselect(inf, finite, special));
    } else v128.store(o, finite);
  }
  for (; t < k; t++) {
    const h = <u32>load<u16>(w + <usize>(t << 1));
    store<f32>(out + <usize>(t << 2), bf ? reinterpret<f32>(h << 16) : halfToFloat(h));
  }
}

/** Format codes of `matmulDequant` and `dequantRows`. */
const Q8_0: i32 = 0;
const Q4_0: i32 = 1;
const NIBBLE: i32 = 2;
const I8: i32 = 3;
const F16: i32 = 4;
const BF16: i32 = 5;

/**
 * Decode row j of W (`rowBytes` bytes per row in `format`) into k f32 at out. NIBBLE only: `scales`
 * [n, ⌈k / group⌉] f32, `codebook` 16 f32, and 16 f32 of scratch after `out`'s k values.
 */
function dequantRow(
  format: i32,
  j: i32,
  k: i32,
  w: usize,
  rowBytes: i32,
  scales: usize,
  group: i32,
  codebook: usize,
  out: usize,
): void {
  const row = w + <usize>(j * rowBytes);
  if (format === Q8_0) dequantRowQ8_0(row, k, out);
  else if (format === Q4_0) dequantRowQ4_0(row, k, out);
  else if (format === NIBBLE) {
    const groups = (k + group - 1) / group;
    dequantRowNibble(row, k, codebook, scales + <usize>((j * groups) << 2), group, out + <usize>(k * 4), out);
  } else if (format === I8) {
    dequantRowI8(row, k, scales + <usize>((j * ((k + group - 1) / group)) << 2), group, out);
  } else if (format === F16) dequantRow16(row, k, out, false);
  else if (format === BF16) dequantRow16(row, k, out, true);
  else unreachable();
}

/**
 * y[i, j] = Σ_q x[i, q] · W[j, q] for i < m, j0 ≤ j < j1 (overwrites y; row stride ldy). x is m×k f32
 * (row-major), W holds `rowBytes` bytes per row in `format` (0 Q8_0, 1 Q4_0, 2 NIBBLE with `scales`
 * ⌈k/group⌉ f32 per row and a 16-value `codebook`, 3 INT8 with `scales` ⌈k/group⌉ f32 per row, 4 FP16,
 * 5 BF16). `scratch` holds k + 16 f32.
 */
export function matmulDequant(
  format: i32,
  m: i32,
  k: i32,
  j0: i32,
  j1: i32,
  x: usize,
  w: usize,
  rowBytes: i32,
  scales: usize,
  group: i32,
  codebook: usize,
  y: usize,
  ldy: i32,
  scratch: usize,
): void {
  for (let j = j0; j < j1; j++) {
    dequantRow(format, j, k, w, rowBytes, scales, group, codebook, scratch);
    for (let i = 0; i < m; i++) {
      store<f32>(y + <usize>((i * ldy + j) * 4), dot(x + <usize>(i * k * 4), scratch, k));
    }
  }
}

/**
 * Decode rows j0..j1 of W into f32 out [(j1 − j0), k] (row-major). Same layouts as matmulDequant;
 * `out` has 16 f32 of scratch after its last row.
 */
export function dequantRows(
  format: i32,
  k: i32,
  j0: i32,
  j1: i32,
  w: usize,
  rowBytes: i32,
  scales: usize,
  group: i32,
  codebook: usize,
  out: usize,
): void {
  for (let j = j0; j < j1; j++)
    dequantRow(format, j, k, w, rowBytes, scales, group, codebook, out + <usize>((j - j0) * k * 4));
}
