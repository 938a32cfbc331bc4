// The 4-bit codebook of the nibble GEMV (gemv-nibble.ts) as small integers: a 16-byte lookup table,
// a unit and an integer offset per call (affine codebooks such as INT4's exactly, others rounded), kept
// per instance for the next call with the same values. Not here: the dot products or x's codes.

// The codebook as integers: codebook[c] = unit·(table[c] + beta), 0 ≤ table[c] ≤ 127 (set by
// `integerCodebook`; module globals are per instance, so per thread).
export let unit: f64 = 1;
export let beta: i32 = 0;

// The last codebook this instance turned into integers (decode calls one layer after another with the
// same codebook: NF4's or INT4's), so that a call whose 16 values match skips integerCodebook.
let lastCb0 = v128.splat<i32>(0);
let lastCb1 = v128.splat<i32>(0);
let lastCb2 = v128.splat<i32>(0);
let lastCb3 = v128.splat<i32>(0);
let lastTable = v128.splat<i32>(0);
let lastAffine = false;
let lastValid = false;

/** `integerCodebook`, or its last result when `codebook`'s 16 values are bit-identical to the last ones. */
export function cachedCodebook(codebook: usize, table: usize): bool {
  const c0 = v128.load(codebook);
  const c1 = v128.load(codebook, 16);
  const c2 = v128.load(codebook, 32);
  const c3 = v128.load(codebook, 48);
  const diff = v128.or(
    v128.or(v128.xor(c0, lastCb0), v128.xor(c1, lastCb1)),
    v128.or(v128.xor(c2, lastCb2), v128.xor(c3, lastCb3)),
  );
  if (lastValid && !v128.any_true(diff)) {
    v128.store(table, lastTable);
    return lastAffine;
  }
  lastAffine = integerCodebook(codebook, table);
  lastTable = v128.load(table);
  lastCb0 = c0;
  lastCb1 = c1;
  lastCb2 = c2;
  lastCb3 = c3;
  lastValid = true;
  return lastAffine;
}

/**
 * Fill the 16-byte `table` and set `unit` / `beta` for `codebook` (16 f32). Returns true when the
 * codebook is affine (codebook[c] = a·c + b with b/a an integer, |b/a| ≤ 255: INT4's c − 8): then
 * table[c] = c and the integers are exact, so no lookup is needed. Otherwise each value is rounded to
 * q = round(value / unit), unit = (max − min) / 127 (or the power of two that makes every q exact,
 * when one exists), table[c] = q − min q ≤ 127: within unit/2 = (max − min)/254 of the value (NF4).
 * Both builds read the table as non-negative 7-bit values: the relaxed build's 8-bit dot as its
 * unsigned operand, the plain build's as the high byte of a raw i16 lane (gemv-nibble.ts `dot32`).
 */
function integerCodebook(codebook: usize, table: usize): bool {
  const c0 = <f64>load<f32>(codebook);
  const a = <f64>load<f32>(codebook, 4) - c0;
  let affine = a !== 0 && Math.abs(c0 / a) <= 255 && c0 / a === Math.round(c0 / a);
  for (let c = 0; c < 16; c++) {
    if (<f64>load<f32>(codebook + <usize>(c << 2)) !== c0 + <f64>c * a) affine = false;
  }
  if (affine) {
    unit = a;
    beta = <i32>(c0 / a);
    for (let c = 0; c < 16; c++) store<u8>(table + <usize>c, <u8>c);
    return true;
  }
  let mx: f64 = 0;
  let lo: f64 = Infinity;
  let hi: f64 = -Infinity;
  for (let c = 0; c < 16; c++) {
    const v = <f64>load<f32>(codebook + <usize>(c << 2));
    mx = max(mx, Math.abs(v));
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let range = mx;
  if (hi > lo) range = hi - lo;
  unit = range === 0 ? 1 : range / 127;
  if (range !== 0) {
    let p2: f64 = 1; // largest power of two with p2·range ≤ 127
    while (p2 * 2 * range <= 127) p2 *= 2;
    while (p2 * range > 127) p2 /= 2;
    let exact = true;
    for (let c = 0; c < 16; c++) {
      const v = <f64>load<f32>(codebook + <usize>(c << 2)) * p2;
      if (v !== Math.round(v)) exact = false;
    }
    if (exact) unit = 1 / p2;
  }
  let qmin: i32 = i32.MAX_VALUE;
  for (let c = 0; c < 16; c++) {
    qmin = min(qmin, <i32>Math.round(<f64>load<f32>(codebook + <usize>(c << 2)) / unit));
  }
  beta = qmin;
  for (let c = 0; c < 16; c++) {
    const q = <i32>Math.round(<f64>load<f32>(codebook + <usize>(c << 2)) / unit);
    // ≤ 127 but for a tie rounded up at the top of the span (then 128: clamped)
    store<u8>(table + <usize>c, <u8>min(q - qmin, 127));
  }
  return false;
}
