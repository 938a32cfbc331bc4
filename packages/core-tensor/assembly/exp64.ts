// e^x in f64 with the same algorithm and constants as V8's Math.exp (scalar and on two lanes), and the
// kernel that must match a JS reference calling Math.exp bit for bit: SiLU's backward. Not here: the
// f32 four-lane exp of the forward kernels (fused.ts), which agrees with Math.exp within ~1 ulp of f32.
//
// Source of the algorithm: fdlibm's e_exp.c (Sun Microsystems, 1993), as V8 carries it in
// src/base/ieee754.cc (`exp`, which also returns the rounded constant e for x = 1 exactly, and scales
// by a built power of two instead of adding to the exponent). e^x = 2^k · e^r with r = x − k·ln2 in
// two parts (hi − lo) and e^r from a degree-5 rational-style remez fit R(r²) (error < 2^−59).

const LN2_HI: f64 = 0.6931471803691238; // 0x3FE62E42 FEE00000
const LN2_LO: f64 = 1.9082149292705877e-10; // 0x3DEA39EF 35793C76
const INV_LN2: f64 = Math.LOG2E; // 0x3FF71547 652B82FE
// fdlibm's P1–P5 (0x3FC55555 5555553E, 0xBF66C16C 16BEBD93, 0x3F11566A AF25DE2C, 0xBEBBBD41 C5D26BF1,
// 0x3E663769 72BEA4D0), written as the shortest decimals of those doubles.
const P1: f64 = 0.16666666666666602;
const P2: f64 = -0.0027777777777015593;
const P3: f64 = 6.613756321437934e-5;
const P4: f64 = -1.6533902205465252e-6;
const P5: f64 = 4.1381367970572385e-8;
const O_THRESHOLD: f64 = 709.782712893384;
const U_THRESHOLD: f64 = -745.1332191019411;
const HUGE: f64 = 1.0e300;
const TWO_M1000: f64 = 9.332636185032189e-302; // 2^−1000
const TWO_1023: f64 = 8.98846567431158e307; // 2^1023
const E: f64 = Math.E; // 0x4005BF0A 8B145769

/** The f64 whose high word is `hi` and low word 0. */
function fromHigh(hi: i32): f64 {
  return reinterpret<f64>((<u64>(<u32>hi)) << 32);
}

/** e^x, bit for bit as V8's Math.exp (fdlibm). */
export function expF64(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  let hx = <i32>(bits >> 32);
  const xsb = (hx >>> 31) & 1;
  hx &= 0x7fffffff;
  if (hx >= 0x40862e42) {
    // |x| ≥ 709.78: NaN, ±∞, overflow or underflow
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | <i32>(<u32>bits)) !== 0) return x + x; // NaN
      return xsb === 0 ? x : 0.0; // e^+∞ = +∞, e^−∞ = 0
    }
    if (x > O_THRESHOLD) return HUGE * HUGE;
    if (x < U_THRESHOLD) return TWO_M1000 * TWO_M1000;
  }
  let k = 0;
  let hi: f64 = 0;
  let lo: f64 = 0;
  if (hx > 0x3fd62e42) {
    // |x| > ln2 / 2: reduce
    if (hx < 0x3ff0a2b2) {
      // and |x| < 1.5·ln2: k = ±1
      if (x === 1.0) return E;
      hi = xsb === 0 ? x - LN2_HI : x + LN2_HI;
      lo = xsb === 0 ? LN2_LO : -LN2_LO;
      k = 1 - xsb - xsb;
    } else {
      k = <i32>(INV_LN2 * x + (xsb === 0 ? 0.5 : -0.5));
      const t = <f64>k;
      hi = x - t * LN2_HI; // exact: LN2_HI has 32 trailing zero bits
      lo = t * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    // |x| < 2^−28: e^x rounds to 1 + x
    if (HUGE + x > 1.0) return 1.0 + x;
  }
  const t = x * x;
  const twopk = k >= -1021 ? fromHigh(0x3ff00000 + (k << 20)) : fromHigh(0x3ff00000 + ((k + 1000) << 20));
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k === 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const y = 1.0 - (lo - (x * c) / (2.0 - c) - hi);
  if (k >= -1021) {
    if (k === 1024) return y * 2.0 * TWO_1023;
    return y * twopk;
  }
  return y * twopk * TWO_M1000;
}

const LOW_BOUND: f64 = 3.725290298461914e-9; // 2^−28 (0x3E300000 00000000): below it e^x = 1 + x
const HALF_LN2_UP: f64 = 0.3465735912322998; // 0x3FD62E43 00000000: first |x| that is reduced
const ONE_HALF_LN2: f64 = 1.0397205352783203; // 0x3FF0A2B2 00000000: k = ±1 below it
const TWO_LANE_MAX: f64 = 512;

/** Whether both lanes of x may go through `exp2`: 2^−28 ≤ |x| < 512 and x ≠ 1 (NaN fails). */
function exp2Fits(x: v128): bool {
  const ax = f64x2.abs(x);
  const ok = v128.and(
    v128.and(f64x2.ge(ax, f64x2.splat(LOW_BOUND)), f64x2.lt(ax, f64x2.splat(TWO_LANE_MAX))),
    f64x2.ne(x, f64x2.splat(1)),
  );
  return i64x2.all_true(ok);
}

/**
 * e^x on two f64 lanes, each bit for bit `expF64`, when `exp2Fits(x)`. There every branch of the
 * algorithm is the same arithmetic with a per-lane k: k = 0 up to ln2/2 (then hi = x − 0 = x and lo = 0,
 * so only the final formula differs, and both are computed and selected), ±1 below 1.5·ln2 (where the
 * truncation could give 0 right above ln2/2), else trunc(x/ln2 ± 1/2); 2^k stays a normal double.
 */
function exp2(x: v128): v128 {
  const ax = f64x2.abs(x);
  const neg = f64x2.lt(x, f64x2.splat(0));
  const half = v128.bitselect(f64x2.splat(-0.5), f64x2.splat(0.5), neg);
  const unit = v128.bitselect(f64x2.splat(-1), f64x2.splat(1), neg);
  const kTrunc = f64x2.trunc(f64x2.add(f64x2.mul(f64x2.splat(INV_LN2), x), half));
  const reduced = f64x2.ge(ax, f64x2.splat(HALF_LN2_UP));
  const small = f64x2.lt(ax, f64x2.splat(ONE_HALF_LN2));
  const k = v128.and(v128.bitselect(unit, kTrunc, small), reduced); // +0 where not reduced
  const hi = f64x2.sub(x, f64x2.mul(k, f64x2.splat(LN2_HI)));
  const lo = f64x2.mul(k, f64x2.splat(LN2_LO));
  const r = f64x2.sub(hi, lo);
  const t = f64x2.mul(r, r);
  let p = f64x2.add(f64x2.splat(P4), f64x2.mul(t, f64x2.splat(P5)));
  p = f64x2.add(f64x2.splat(P3), f64x2.mul(t, p));
  p = f64x2.add(f64x2.splat(P2), f64x2.mul(t, p));
  p = f64x2.add(f64x2.splat(P1), f64x2.mul(t, p));
  const c = f64x2.sub(r, f64x2.mul(t, p));
  const rc = f64x2.mul(r, c);
  const one = f64x2.splat(1);
  // k = 0: 1 − (r·c/(c − 2) − r)
  const y0 = f64x2.sub(one, f64x2.sub(f64x2.div(rc, f64x2.sub(c, f64x2.splat(2))), r));
  // k ≠ 0: (1 − ((lo − r·c/(2 − c)) − hi)) · 2^k, 2^k built from its exponent bits
  const y1 = f64x2.sub(one, f64x2.sub(f64x2.sub(lo, f64x2.div(rc, f64x2.sub(f64x2.splat(2), c))), hi));
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k));
  const twopk = i64x2.shl(i64x2.add(ki, i64x2.splat(1023)), 52);
  return v128.bitselect(f64x2.mul(y1, twopk), y0, reduced);
}

/** e^x of a pair, each lane `expF64`'s bits: two lanes when they fit, else one by one. */
function expPair(x: v128): v128 {
  if (exp2Fits(x)) return exp2(x);
  const e = f64x2.splat(expF64(f64x2.extract_lane(x, 0)));
  return f64x2.replace_lane(e, 1, expF64(f64x2.extract_lane(x, 1)));
}

/** out[i] = e^x[i] over n f64 through the two-lane path (the kernels' exp, exported for its test). */
export function expF64Pairs(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 1 < n; i += 2) v128.store(out + ((<usize>i) << 3), expPair(v128.load(x + ((<usize>i) << 3))));
  if (i < n) store<f64>(out + ((<usize>i) << 3), expF64(load<f64>(x + ((<usize>i) << 3))));
}

/**
 * out[i] = g[i] · silu′(x[i]) with silu′(x) = σ(x)(1 + x(1 − σ(x))), in f64 with V8's exp (exp64.ts)
 * and the JS reference's operation order (kernels/fused.ts `siluGrad`), so the result is bit-identical to it.
 */
export function siluBackwardF32(g: usize, x: usize, out: usize, n: i32): void {
  const one = f64x2.splat(1);
  let i = 0;
  // Two elements at a time in f64x2 (exp2, each lane expF64's bits); lanes out of exp2's range take expF64.
  for (; i + 1 < n; i += 2) {
    const o = (<usize>i) << 2;
    const xv = f64x2.promote_low_f32x4(v128.load64_zero(x + o));
    const nx = f64x2.neg(xv);
    const s = f64x2.div(one, f64x2.add(one, expPair(nx)));
    const d = f64x2.mul(s, f64x2.add(one, f64x2.mul(xv, f64x2.sub(one, s))));
    const gv = f64x2.promote_low_f32x4(v128.load64_zero(g + o));
    v128.store64_lane(out + o, f32x4.demote_f64x2_zero(f64x2.mul(gv, d)), 0);
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const xv = <f64>load<f32>(x + o);
    const s = 1.0 / (1.0 + expF64(-xv));
    store<f32>(out + o, <f32>(<f64>load<f32>(g + o) * (s * (1.0 + xv * (1.0 - s)))));
  }
}
