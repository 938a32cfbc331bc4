// f32x4 row helpers shared by the kernels (AssemblyScript, 128-bit SIMD): a contiguous dot product and
// an in-place row scale. Byte addresses; lengths in elements. Nothing exported here takes or returns a
// v128 (asc warns on any exported v128 signature), so gemm.ts keeps its own `madd` and `hsum`.

/** Sum of the four lanes. */
function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/** Σ x[q]·y[q] over k contiguous f32, four SIMD accumulators. */
export function dot(x: usize, y: usize, k: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let s2 = f32x4.splat(0);
  let s3 = f32x4.splat(0);
  let q = 0;
  for (; q + 15 < k; q += 16) {
    const o = <usize>(q * 4);
    s0 = f32x4.add(s0, f32x4.mul(v128.load(x + o), v128.load(y + o)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
    s2 = f32x4.add(s2, f32x4.mul(v128.load(x + o, 32), v128.load(y + o, 32)));
    s3 = f32x4.add(s3, f32x4.mul(v128.load(x + o, 48), v128.load(y + o, 48)));
  }
  for (; q + 3 < k; q += 4) {
    const o = <usize>(q * 4);
    s0 = f32x4.add(s0, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  let t = hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
  for (; q < k; q++) t += load<f32>(x + <usize>(q * 4)) * load<f32>(y + <usize>(q * 4));
  return t;
}

/** x[c] ← s·x[c] for c < d (contiguous f32). */
export function scaleInPlace(x: usize, d: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let c = 0;
  for (; c + 3 < d; c += 4) v128.store(x + <usize>(c * 4), f32x4.mul(sv, v128.load(x + <usize>(c * 4))));
  for (; c < d; c++) store<f32>(x + <usize>(c * 4), s * load<f32>(x + <usize>(c * 4)));
}
