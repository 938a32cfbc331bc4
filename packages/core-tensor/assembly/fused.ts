// The elementwise and row kernels of a decode/prefill step (AssemblyScript, 128-bit SIMD): residual
// add, SiLU and SiLU(gate)·up, RMSNorm, RoPE (half-split pairs), row softmax / log-softmax, argmax and
// temperature sampling, and the AdamW update. Byte addresses, lengths in elements, contiguous f32.
// Not here: the JS references (src/kernels/, src/ops/) or operand staging (src/wasm/fused.ts).

// ---- exp on four lanes ------------------------------------------------------------------------
// Cephes' expf (S. L. Moshier, Cephes Math Library, expf.c): e^x = 2^n · e^r with n = round(x·log₂e),
// r = x − n·ln2 in two parts, and e^r ≈ 1 + r + r²·P(r) with a degree-5 minimax P (~1 ulp on f32).
const LOG2E: f32 = Mathf.LOG2E;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.1219444e-4;
/** Inputs above this are clamped (e^88 ≈ 1.65e38, so 2^n stays a normal f32). */
const EXP_HI: f32 = 88.0;
/** Inputs below this (and −∞) give exactly 0, as the JS reference's exp underflows to 0. */
const EXP_LO: f32 = -87.33654475;

function exp4(x: v128): v128 {
  const under = f32x4.lt(x, f32x4.splat(EXP_LO));
  const c = f32x4.max(f32x4.min(x, f32x4.splat(EXP_HI)), f32x4.splat(EXP_LO));
  const n = f32x4.nearest(f32x4.mul(c, f32x4.splat(LOG2E)));
  let r = f32x4.sub(c, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.98756915e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const e = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(r, r), p), r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(e, pow2n), under);
}

/** e^x for one f32 through the four-lane path (tails use it so every element rounds alike). */
function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** out[i] = e^x[i] for i < n (the kernel the tests hold to Math.exp). */
export function expF32(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 3 < n; i += 4) v128.store(out + ((<usize>i) << 2), exp4(v128.load(x + ((<usize>i) << 2))));
  for (; i < n; i++) store<f32>(out + ((<usize>i) << 2), exp1(load<f32>(x + ((<usize>i) << 2))));
}

// ---- elementwise ------------------------------------------------------------------------------

/** out[i] = a[i] + b[i] (out may alias a or b). */
export function addF32(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** out[i] = a[i] · b[i] (out may alias a or b). */
export function mulF32(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/** out[i] = silu(g[i]) · u[i] with silu(v) = v / (1 + e^−v); u = 0 (no address) gives silu alone. */
export function siluMulF32(g: usize, u: usize, out: usize, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o = (<usize>i) << 2;
    const v = v128.load(g + o);
    let s = f32x4.div(v, f32x4.add(one, exp4(f32x4.neg(v))));
    if (u !== 0) s = f32x4.mul(s, v128.load(u + o));
    v128.store(out + o, s);
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const v = load<f32>(g + o);
    let s = v / (1 + exp1(-v));
    if (u !== 0) s *= load<f32>(u + o);
    store<f32>(out + o, s);
  }
}

/**
 * Zero `bytes` bytes from `at`: one `memory.fill` (a bulk memset), where a JS `TypedArray.fill` over the
 * shared memory stores element by element (1 MiB: ~8 µs here against ~80 µs for a Float32Array fill).
 */
export function zeroBytes(at: usize, bytes: usize): void {
  memory.fill(at, 0, bytes);
}

/**
 * Copy `bytes` bytes from `src` to `dst` (may overlap): one `memory.copy`, where `TypedArray.set`
 * between views of the shared memory copies element by element (128 KiB: ~7.5 µs against ~2.4 µs
 * between plain arrays).
 */
export function copyBytes(dst: usize, src: usize, bytes: usize): void {
  memory.copy(dst, src, bytes);
}

// ---- rows -------------------------------------------------------------------------------------

/** y = x / rms(x) · w per row of x [rows, cols]; 1/rms into rstd[r] when rstd ≠ 0. */
export function rmsNormF32(
  x: usize,
  w: usize,
  out: usize,
  rows: i32,
  cols: i32,
  eps: f64,
  rstd: usize,
): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>(r * cols)) << 2);
    const yr = out + ((<usize>(r * cols)) << 2);
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let j = 0;
    for (; j + 7 < cols; j += 8) {
      const v0 = v128.load(xr + ((<usize>j) << 2));
      const v1 = v128.load(xr + ((<usize>j) << 2), 16);
      a0 = f32x4.add(a0, f32x4.mul(v0, v0));
      a1 = f32x4.add(a1, f32x4.mul(v1, v1));
    }
    const a = f32x4.add(a0, a1);
    let ss: f64 =
      <f64>f32x4.extract_lane(a, 0) +
      <f64>f32x4.extract_lane(a, 1) +
      <f64>f32x4.extract_lane(a, 2) +
      <f64>f32x4.extract_lane(a, 3);
    for (; j < cols; j++) {
      const v = <f64>load<f32>(xr + ((<usize>j) << 2));
      ss += v * v;
    }
    const inv = <f32>(1 / Math.sqrt(ss / cols + eps));
    if (rstd !== 0) store<f32>(rstd + ((<usize>r) << 2), inv);
    const iv = f32x4.splat(inv);
    j = 0;
    for (; j + 3 < cols; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(yr + o, f32x4.mul(f32x4.mul(v128.load(xr + o), iv), v128.load(w + o)));
    }
    for (; j < cols; j++) {
      const o = (<usize>j) << 2;
      store<f32>(yr + o, load<f32>(xr + o) * inv * load<f32>(w + o));
    }
  }
}

/**
 * RMSNorm's backward in f64 with the JS reference's operation order (kernels/rows.ts `rmsNormBackward`),
 * so bit-identical to it: per row, dot = Σ (g·w)·x in order; gx = (r·g)·w − x·(r³·dot/cols) when gx ≠ 0;
 * gw += (g·x)·r when gw ≠ 0. The elementwise parts run on f64 pairs (no FMA in wasm: same roundings).
 */
export function rmsNormBackwardF32(
  x: usize,
  w: usize,
  rstd: usize,
  g: usize,
  rows: i32,
  cols: i32,
  gx: usize,
  gw: usize,
): void {
  for (let i = 0; i < rows; i++) {
    const base = (<usize>(i * cols)) << 2;
    const xr = x + base;
    const gr = g + base;
    const r = <f64>load<f32>(rstd + ((<usize>i) << 2));
    let dot: f64 = 0;
    for (let j = 0; j < cols; j++) {
      const o = (<usize>j) << 2;
      dot += <f64>load<f32>(gr + o) * <f64>load<f32>(w + o) * <f64>load<f32>(xr + o);
    }
    const rv = f64x2.splat(r);
    if (gx !== 0) {
      const c = (r * r * r * dot) / <f64>cols;
      const cv = f64x2.splat(c);
      const yr = gx + base;
      let j = 0;
      for (; j + 1 < cols; j += 2) {
        const o = (<usize>j) << 2;
        const gv = f64x2.promote_low_f32x4(v128.load64_zero(gr + o));
        const wv = f64x2.promote_low_f32x4(v128.load64_zero(w + o));
        const xv = f64x2.promote_low_f32x4(v128.load64_zero(xr + o));
        const v = f64x2.sub(f64x2.mul(f64x2.mul(rv, gv), wv), f64x2.mul(xv, cv));
        v128.store64_lane(yr + o, f32x4.demote_f64x2_zero(v), 0);
      }
      for (; j < cols; j++) {
        const o = (<usize>j) << 2;
        const v = r * <f64>load<f32>(gr + o) * <f64>load<f32>(w + o) - <f64>load<f32>(xr + o) * c;
        store<f32>(yr + o, <f32>v);
      }
    }
    if (gw !== 0) {
      let j = 0;
      for (; j + 1 < cols; j += 2) {
        const o = (<usize>j) << 2;
        const acc = f64x2.promote_low_f32x4(v128.load64_zero(gw + o));
        const gv = f64x2.promote_low_f32x4(v128.load64_zero(gr + o));
        const xv = f64x2.promote_low_f32x4(v128.load64_zero(xr + o));
        const v = f64x2.add(acc, f64x2.mul(f64x2.mul(gv, xv), rv));
        v128.store64_lane(gw + o, f32x4.demote_f64x2_zero(v), 0);
      }
      for (; j < cols; j++) {
        const o = (<usize>j) << 2;
        const v = <f64>load<f32>(gw + o) + <f64>load<f32>(gr + o) * <f64>load<f32>(xr + o) * r;
        store<f32>(gw + o, <f32>v);
      }
    }
  }
}

/**
 * Rotary embedding, half-split pairs (x[i], x[i + D/2]) as in Hugging Face Llama, on x viewed as
 * [outer, T, D]; out may alias x (in place). pos: nPos f64 positions, T of them per group of
 * outer / (nPos / T) consecutive outer rows. table: scratch of nPos·D f32 (cos, then sin, per
 * position). inverse ≠ 0 rotates by −θ (backward).
 */
export function ropeF32(
  x: usize,
  out: usize,
  outer: i32,
  T: i32,
  D: i32,
  pos: usize,
  nPos: i32,
  theta: f64,
  inverse: i32,
  table: usize,
): void {
  const half = D >> 1;
  const sign: f64 = inverse !== 0 ? -1 : 1;
  const cosT = table;
  const sinT = table + ((<usize>(nPos * half)) << 2);
  for (let i = 0; i < half; i++) {
    const freq = theta ** (-(<f64>(2 * i)) / <f64>D);
    for (let p = 0; p < nPos; p++) {
      const ang = load<f64>(pos + ((<usize>p) << 3)) * freq;
      store<f32>(cosT + ((<usize>(p * half + i)) << 2), <f32>Math.cos(ang));
      store<f32>(sinT + ((<usize>(p * half + i)) << 2), <f32>(sign * Math.sin(ang)));
    }
  }
  const rowsOfPos = nPos / T;
  const group = max(1, outer / rowsOfPos);
  for (let o = 0; o < outer; o++) {
    const pr = (o / group) * T;
    for (let t = 0; t < T; t++) {
      const xb = x + ((<usize>((o * T + t) * D)) << 2);
      const yb = out + ((<usize>((o * T + t) * D)) << 2);
      const cb = cosT + ((<usize>((pr + t) * half)) << 2);
      const sb = sinT + ((<usize>((pr + t) * half)) << 2);
      const hb = (<usize>half) << 2;
      let i = 0;
      for (; i + 3 < half; i += 4) {
        const o4 = (<usize>i) << 2;
        const c = v128.load(cb + o4);
        const s = v128.load(sb + o4);
        const x1 = v128.load(xb + o4);
        const x2 = v128.load(xb + hb + o4);
        v128.store(yb + o4, f32x4.sub(f32x4.mul(x1, c), f32x4.mul(x2, s)));
        v128.store(yb + hb + o4, f32x4.add(f32x4.mul(x2, c), f32x4.mul(x1, s)));
      }
      for (; i < half; i++) {
        const o1 = (<usize>i) << 2;
        const c = load<f32>(cb + o1);
        const s = load<f32>(sb + o1);
        const x1 = load<f32>(xb + o1);
        const x2 = load<f32>(xb + hb + o1);
        store<f32>(yb + o1, x1 * c - x2 * s);
        store<f32>(yb + hb + o1, x2 * c + x1 * s);
      }
    }
  }
}

/** Largest of n contiguous f32 (−∞ for n = 0; NaN when any is NaN). */
function rowMax(x: usize, n: i32): f32 {
  let m4 = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 3 < n; j += 4) m4 = f32x4.max(m4, v128.load(x + ((<usize>j) << 2)));
  let m = max(
    max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)),
    max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)),
  );
  for (; j < n; j++) m = max(m, load<f32>(x + ((<usize>j) << 2)));
  return m;
}

/** out[j] = e^((x[j] − m)/t) for j < n; returns Σ out[j]. */
function expShifted(x: usize, out: usize, n: i32, m: f32, t: f32): f32 {
  const mv = f32x4.splat(m);
  const tv = f32x4.splat(t);
  let s4 = f32x4.splat(0);
  let j = 0;
  for (; j + 3 < n; j += 4) {
    const o = (<usize>j) << 2;
    const e = exp4(f32x4.div(f32x4.sub(v128.load(x + o), mv), tv));
    v128.store(out + o, e);
    s4 = f32x4.add(s4, e);
  }
  let s =
    f32x4.extract_lane(s4, 0) +
    f32x4.extract_lane(s4, 1) +
    (f32x4.extract_lane(s4, 2) + f32x4.extract_lane(s4, 3));
  for (; j < n; j++) {
    const e = exp1((load<f32>(x + ((<usize>j) << 2)) - m) / t);
    store<f32>(out + ((<usize>j) << 2), e);
    s += e;
  }
  return s;
}

/**
 * Softmax (log ≠ 0: log-softmax) of each row of x [rows, cols], max-subtracted; out may alias x. A
 * row of −∞ (fully masked) gives zeros (softmax) or −∞ (log-softmax), as the JS reference does.
 */
export function softmaxF32(x: usize, out: usize, rows: i32, cols: i32, log: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>(r * cols)) << 2);
    const yr = out + ((<usize>(r * cols)) << 2);
    let m = rowMax(xr, cols);
    if (m === -Infinity) m = 0;
    if (log !== 0) {
      // Σ e^(x − m) without storing (out may alias x), then y = x − (m + log Σ).
      const s = expSum(xr, cols, m);
      splatSub(xr, yr, cols, m + Mathf.log(s));
    } else {
      const s = expShifted(xr, yr, cols, m, 1);
      const inv: f32 = s > 0 ? 1 / s : 0;
      const iv = f32x4.splat(inv);
      let j = 0;
      for (; j + 3 < cols; j += 4)
        v128.store(yr + ((<usize>j) << 2), f32x4.mul(v128.load(yr + ((<usize>j) << 2)), iv));
      for (; j < cols; j++) store<f32>(yr + ((<usize>j) << 2), load<f32>(yr + ((<usize>j) << 2)) * inv);
    }
  }
}

/**
 * Attention probabilities over scores x [rows, tk], row r being query r mod tq: out = softmax(scale·x)
 * over the keys the mask lets the query see, 0 elsewhere (and on a row that sees none). The mask rule
 * is attentionTile's: hi = causal ? min(i + tk − tq, tk − 1) : tk − 1, and a window keeps the last
 * `window` keys up to hi. out may alias x.
 */
export function maskedSoftmaxF32(
  x: usize,
  out: usize,
  rows: i32,
  tq: i32,
  tk: i32,
  scale: f32,
  causal: i32,
  window: i32,
): void {
  const sv = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const i = r % tq;
    const hi = causal !== 0 ? min(i + tk - tq, tk - 1) : tk - 1;
    const lo = window > 0 ? max(0, hi - window + 1) : 0;
    const xr = x + ((<usize>(r * tk)) << 2);
    const yr = out + ((<usize>(r * tk)) << 2);
    if (hi < lo) {
      memory.fill(yr, 0, (<usize>tk) << 2);
      continue;
    }
    const n = hi - lo + 1;
    const xs = xr + ((<usize>lo) << 2);
    const ys = yr + ((<usize>lo) << 2);
    const mv = f32x4.splat(rowMax(xs, n));
    const m = f32x4.extract_lane(mv, 0);
    let s4 = f32x4.splat(0);
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const o = (<usize>j) << 2;
      const e = exp4(f32x4.mul(f32x4.sub(v128.load(xs + o), mv), sv));
      v128.store(ys + o, e);
      s4 = f32x4.add(s4, e);
    }
    let sum =
      f32x4.extract_lane(s4, 0) +
      f32x4.extract_lane(s4, 1) +
      (f32x4.extract_lane(s4, 2) + f32x4.extract_lane(s4, 3));
    for (; j < n; j++) {
      const e = exp1((load<f32>(xs + ((<usize>j) << 2)) - m) * scale);
      store<f32>(ys + ((<usize>j) << 2), e);
      sum += e;
    }
    const inv: f32 = sum > 0 ? 1 / sum : 0;
    const iv = f32x4.splat(inv);
    j = 0;
    for (; j + 3 < n; j += 4)
      v128.store(ys + ((<usize>j) << 2), f32x4.mul(v128.load(ys + ((<usize>j) << 2)), iv));
    for (; j < n; j++) store<f32>(ys + ((<usize>j) << 2), load<f32>(ys + ((<usize>j) << 2)) * inv);
    // Masked keys last: out may alias x, whose visible span was read above.
    memory.fill(yr, 0, (<usize>lo) << 2);
    memory.fill(ys + ((<usize>n) << 2), 0, (<usize>(tk - hi - 1)) << 2);
  }
}

/** Σ e^(x[j] − m) for j < n. */
function expSum(x: usize, n: i32, m: f32): f32 {
  const mv = f32x4.splat(m);
  let s4 = f32x4.splat(0);
  let j = 0;
  for (; j + 3 < n; j += 4) s4 = f32x4.add(s4, exp4(f32x4.sub(v128.load(x + ((<usize>j) << 2)), mv)));
  let s =
    f32x4.extract_lane(s4, 0) +
    f32x4.extract_lane(s4, 1) +
    (f32x4.extract_lane(s4, 2) + f32x4.extract_lane(s4, 3));
  for (; j < n; j++) s += exp1(load<f32>(x + ((<usize>j) << 2)) - m);
  return s;
}

/** y[j] = x[j] − c for j < n. */
function splatSub(x: usize, y: usize, n: i32, c: f32): void {
  const cv = f32x4.splat(c);
  let j = 0;
  for (; j + 3 < n; j += 4)
    v128.store(y + ((<usize>j) << 2), f32x4.sub(v128.load(x + ((<usize>j) << 2)), cv));
  for (; j < n; j++) store<f32>(y + ((<usize>j) << 2), load<f32>(x + ((<usize>j) << 2)) - c);
}

/** Index of the largest of n f32 at x, the first on ties; NaNs are skipped as `x > best` skips them. */
function argmaxRow(x: usize, n: i32): i32 {
  const m = rowMax(x, n);
  // biome-ignore lint/suspicious/noGlobalIsNan: AssemblyScript's builtin (no Number.isNaN here)
  if (!isNaN(m)) {
    for (let j = 0; j < n; j++) if (load<f32>(x + ((<usize>j) << 2)) === m) return j;
  }
  // A NaN somewhere: the reference's scalar rule.
  let best = 0;
  for (let j = 1; j < n; j++)
    if (load<f32>(x + ((<usize>j) << 2)) > load<f32>(x + ((<usize>best) << 2))) best = j;
  return best;
}

/** out[r] (i32) = argmax of row r of x [rows, cols]. */
export function argmaxF32(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let r = 0; r < rows; r++)
    store<i32>(out + ((<usize>r) << 2), argmaxRow(x + ((<usize>(r * cols)) << 2), cols));
}

/**
 * Temperature sampling, one token per row of logits x [rows, cols]: p_j ∝ e^((x_j − max)/temperature),
 * token = the first j whose running sum of p exceeds u[r]·Σp (u: rows f64 uniforms in [0, 1)); the
 * argmax when temperature ≤ 0 or when rounding leaves no such j. scratch: cols f32. out: rows i32.
 */
export function sampleF32(
  x: usize,
  rows: i32,
  cols: i32,
  temperature: f32,
  u: usize,
  out: usize,
  scratch: usize,
): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>(r * cols)) << 2);
    const best = argmaxRow(xr, cols);
    let pick = best;
    if (temperature > 0) {
      const s = expShifted(xr, scratch, cols, load<f32>(xr + ((<usize>best) << 2)), temperature);
      let left = <f32>load<f64>(u + ((<usize>r) << 3)) * s;
      for (let j = 0; j < cols; j++) {
        left -= load<f32>(scratch + ((<usize>j) << 2));
        if (left < 0) {
          pick = j;
          break;
        }
      }
    }
    store<i32>(out + ((<usize>r) << 2), pick);
  }
}

// ---- AdamW ------------------------------------------------------------------------------------

/**
 * One AdamW step over n parameters, in f64 like the JS reference (so the stored f32 results are
 * bit-equal): gⱼ ← g·gScale; m ← β₁m + (1−β₁)gⱼ; v ← β₂v + (1−β₂)gⱼ²;
 * p ← p·decay − lr·(m/bc1) / (√(v/bc2) + eps), with m and v re-read as stored (f32).
 */
export function adamwF32(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  n: i32,
  lr: f64,
  beta1: f64,
  beta2: f64,
  eps: f64,
  decay: f64,
  gScale: f64,
  bc1: f64,
  bc2: f64,
): void {
  const b1 = f64x2.splat(beta1);
  const c1 = f64x2.splat(1 - beta1);
  const b2 = f64x2.splat(beta2);
  const c2 = f64x2.splat(1 - beta2);
  const lr2 = f64x2.splat(lr);
  const eps2 = f64x2.splat(eps);
  const dec2 = f64x2.splat(decay);
  const gs2 = f64x2.splat(gScale);
  const bc12 = f64x2.splat(bc1);
  const bc22 = f64x2.splat(bc2);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const o = (<usize>i) << 2;
    const gj = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(g + o)), gs2);
    const mj = f64x2.add(f64x2.mul(b1, f64x2.promote_low_f32x4(v128.load64_zero(m + o))), f64x2.mul(c1, gj));
    const vj = f64x2.add(
      f64x2.mul(b2, f64x2.promote_low_f32x4(v128.load64_zero(v + o))),
      f64x2.mul(f64x2.mul(c2, gj), gj),
    );
    const mf = f32x4.demote_f64x2_zero(mj);
    const vf = f32x4.demote_f64x2_zero(vj);
    v128.store64_lane(m + o, mf, 0);
    v128.store64_lane(v + o, vf, 0);
    const step = f64x2.div(
      f64x2.mul(lr2, f64x2.div(f64x2.promote_low_f32x4(mf), bc12)),
      f64x2.add(f64x2.sqrt(f64x2.div(f64x2.promote_low_f32x4(vf), bc22)), eps2),
    );
    const pj = f64x2.sub(f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + o)), dec2), step);
    v128.store64_lane(p + o, f32x4.demote_f64x2_zero(pj), 0);
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const gj = <f64>load<f32>(g + o) * gScale;
    store<f32>(m + o, <f32>(beta1 * <f64>load<f32>(m + o) + (1 - beta1) * gj));
    store<f32>(v + o, <f32>(beta2 * <f64>load<f32>(v + o) + (1 - beta2) * gj * gj));
    const mj = <f64>load<f32>(m + o);
    const vj = <f64>load<f32>(v + o);
    store<f32>(p + o, <f32>(<f64>load<f32>(p + o) * decay - (lr * (mj / bc1)) / (Math.sqrt(vj / bc2) + eps)));
  }
}
