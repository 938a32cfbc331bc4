// The flash-attention tile loop for one head (AssemblyScript, SIMD over the head dimension): scores of
// a Bq×Bk tile, the online-softmax update of each query row's running max and sum, and the rescaled
// weighted sum of V. Not here: the loop over tiles, the final 1/l normalisation (attentionFinish) or
// the backward pass (the attention package recomputes).
import { expShifted } from "./fused";
import { dot, scaleInPlace } from "./simd";

/**
 * Update rows i < bq of O (bq×d, row stride ldo), mRow and lRow (bq f32 each) with one tile of keys.
 * Per row, over the run of keys it can see: their scores four keys per step sharing q's loads
 * (`tileScores`), their exponentials four lanes at a time (fused.ts `expShifted`), then O += Σ p·V two
 * rows of V per pass over O (`accumulatePV`). Against a dot, a scalar exp and a pass over O per key:
 * one decode query, 12 heads of 64, medians of 300 calls, K/V warm in cache 256 / 1024 / 2048 keys
 * 74–76 → 48–50, 243–264 → 135–145, 490–507 → 251–332 µs; 12 layers' K/V cold from memory, 512 / 1536
 * keys 2.22–2.25 → 1.28–1.88, 6.24–6.76 → 5.10–6.39 ms (two runs each, a slow phase of the host;
 * 2026-11-29).
 * q: bq×d (stride ldq); k, v: bk×d (stride ldk, ldv); s: scratch of bk f32. Query row i sits at
 * absolute position qPos0 + i and key j at kPos0 + j. The mask rule (the one every backend applies):
 * query row i's last visible key is hi = causal ? min(qp, kEnd) : kEnd, and key j is visible iff
 * kp ≤ hi and (window ≤ 0 || hi − kp < window) — the window is the last `window` keys the causal
 * rule lets the row see. Start with m = −∞, l = 0, O = 0.
 */
export function attentionTile(
  bq: i32,
  bk: i32,
  d: i32,
  q: usize,
  ldq: i32,
  k: usize,
  ldk: i32,
  v: usize,
  ldv: i32,
  scale: f32,
  qPos0: i32,
  kPos0: i32,
  causal: i32,
  window: i32,
  kEnd: i32,
  mRow: usize,
  lRow: usize,
  o: usize,
  ldo: i32,
  s: usize,
): void {
  const krow = (<usize>ldk) << 2;
  const vrow = (<usize>ldv) << 2;
  for (let i = 0; i < bq; i++) {
    const qi = q + <usize>(i * ldq * 4);
    const qp = qPos0 + i;
    const hi = causal !== 0 ? min(qp, kEnd) : kEnd;
    // the row's visible keys in this tile: one run [ja, jb] (a key past hi, or before the window, never is)
    const ja = window > 0 ? max(0, hi - window + 1 - kPos0) : 0;
    const jb = min(bk - 1, hi - kPos0);
    if (jb < ja) continue; // none: m, l and O stay as they are
    const n = jb - ja + 1;
    const k0 = k + <usize>ja * krow;
    const mx = tileScores(d, qi, k0, krow, n, scale, s);
    const mOld = load<f32>(mRow + <usize>(i * 4));
    const mNew = max(mOld, mx);
    if (mNew === -Infinity) continue; // every key so far scored −∞: nothing to add
    const alpha = mOld === -Infinity ? <f32>0 : Mathf.exp(mOld - mNew);
    const oi = o + <usize>(i * ldo * 4);
    // O_i ← α·O_i, p_j = e^(s_j − m) in place, then O_i += Σ p_j · V_j
    if (alpha !== 1) scaleInPlace(oi, d, alpha);
    const sum = expShifted(s, s, n, mNew, 1);
    accumulatePV(d, oi, v + <usize>ja * vrow, vrow, n, s);
    store<f32>(lRow + <usize>(i * 4), alpha * load<f32>(lRow + <usize>(i * 4)) + sum);
    store<f32>(mRow + <usize>(i * 4), mNew);
  }
}

/**
 * s[j] = scale·(q · K_j) for the n rows of K from k (rows `krow` bytes apart, d f32 each), four keys per
 * step sharing q's loads; returns their max.
 */
function tileScores(d: i32, q: usize, k: usize, krow: usize, n: i32, scale: f32, s: usize): f32 {
  const sv = f32x4.splat(scale);
  let m4 = f32x4.splat(-Infinity);
  let j = 0;
  if ((d & 3) === 0) {
    for (; j + 3 < n; j += 4) {
      const r0 = k + <usize>j * krow;
      const r1 = r0 + krow;
      const r2 = r1 + krow;
      const r3 = r2 + krow;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      for (let e = 0; e < d; e += 4) {
        const c = (<usize>e) << 2;
        const qv = v128.load(q + c);
        a0 = f32x4.add(a0, f32x4.mul(qv, v128.load(r0 + c)));
        a1 = f32x4.add(a1, f32x4.mul(qv, v128.load(r1 + c)));
        a2 = f32x4.add(a2, f32x4.mul(qv, v128.load(r2 + c)));
        a3 = f32x4.add(a3, f32x4.mul(qv, v128.load(r3 + c)));
      }
      // [Σ a0, Σ a1, Σ a2, Σ a3] by a 4×4 transpose
      const ab = f32x4.add(v128.shuffle<i32>(a0, a1, 0, 4, 1, 5), v128.shuffle<i32>(a0, a1, 2, 6, 3, 7));
      const cd = f32x4.add(v128.shuffle<i32>(a2, a3, 0, 4, 1, 5), v128.shuffle<i32>(a2, a3, 2, 6, 3, 7));
      const sc = f32x4.mul(f32x4.add(v128.shuffle<i64>(ab, cd, 0, 2), v128.shuffle<i64>(ab, cd, 1, 3)), sv);
      v128.store(s + ((<usize>j) << 2), sc);
      m4 = f32x4.max(m4, sc);
    }
  }
  let m = max(
    max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)),
    max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)),
  );
  for (; j < n; j++) {
    const sc = dot(q, k + <usize>j * krow, d) * scale;
    store<f32>(s + ((<usize>j) << 2), sc);
    m = max(m, sc);
  }
  return m;
}

/** o (d f32) += Σ_j p[j]·V_j over the n rows of V from v (rows `vrow` bytes apart), two rows per pass over o. */
function accumulatePV(d: i32, o: usize, v: usize, vrow: usize, n: i32, p: usize): void {
  let j = 0;
  for (; j + 1 < n; j += 2) {
    const p0 = v128.load32_splat(p + ((<usize>j) << 2));
    const p1 = v128.load32_splat(p + ((<usize>(j + 1)) << 2));
    const v0 = v + <usize>j * vrow;
    const v1 = v0 + vrow;
    let e = 0;
    for (; e + 3 < d; e += 4) {
      const c = (<usize>e) << 2;
      const t = f32x4.add(f32x4.mul(p0, v128.load(v0 + c)), f32x4.mul(p1, v128.load(v1 + c)));
      v128.store(o + c, f32x4.add(v128.load(o + c), t));
    }
    for (; e < d; e++) {
      const c = (<usize>e) << 2;
      const pa = f32x4.extract_lane(p0, 0);
      const pb = f32x4.extract_lane(p1, 0);
      store<f32>(o + c, load<f32>(o + c) + (pa * load<f32>(v0 + c) + pb * load<f32>(v1 + c)));
    }
  }
  if (j < n) {
    const pj = load<f32>(p + ((<usize>j) << 2));
    const pv = f32x4.splat(pj);
    const vj = v + <usize>j * vrow;
    let e = 0;
    for (; e + 3 < d; e += 4) {
      const c = (<usize>e) << 2;
      v128.store(o + c, f32x4.add(v128.load(o + c), f32x4.mul(pv, v128.load(vj + c))));
    }
    for (; e < d; e++) {
      const c = (<usize>e) << 2;
      store<f32>(o + c, load<f32>(o + c) + pj * load<f32>(vj + c));
    }
  }
}

/** O_i ← O_i / l_i for rows i < bq (rows with l = 0, fully masked, become 0). */
export function attentionFinish(bq: i32, d: i32, lRow: usize, o: usize, ldo: i32): void {
  for (let i = 0; i < bq; i++) {
    const l = load<f32>(lRow + <usize>(i * 4));
    scaleInPlace(o + <usize>(i * ldo * 4), d, l > 0 ? 1 / l : 0);
  }
}

/**
 * Blocked attention for query heads h0..h1−1: q [heads, tq, d], k and v [kvHeads, ·, d] with K/V head
 * h' starting `kvStride` floats after head h' − 1 (tk·d when contiguous; more when K/V are read in place
 * from a cache reservation of more positions), rows of d; o [heads, tq, d] (f32); query head h reads
 * K/V head h / (heads / kvHeads). Query i sits at position i + tk − tq (bottom-right causal
 * alignment); the mask rule is attentionTile's. Tiles of bq queries × bk keys; `scratch` holds
 * (2·bq + bk) f32. Tiles wholly above the causal diagonal or outside the window are skipped. When
 * `lse` ≠ 0 it is [heads, tq] f32: each row's log Σ exp of its scaled visible scores, m + log l from
 * the online softmax (−∞ for a row that sees no key), what a backward recomputes P from.
 */
export function attentionBlocked(
  h0: i32,
  h1: i32,
  heads: i32,
  kvHeads: i32,
  tq: i32,
  tk: i32,
  d: i32,
  q: usize,
  k: usize,
  v: usize,
  kvStride: i32,
  o: usize,
  scale: f32,
  causal: i32,
  window: i32,
  bq: i32,
  bk: i32,
  scratch: usize,
  lse: usize,
): void {
  const group = heads / kvHeads;
  const mRow = scratch;
  const lRow = scratch + <usize>(bq * 4);
  const s = lRow + <usize>(bq * 4);
  const shift = tk - tq;
  for (let h = h0; h < h1; h++) {
    const qh = q + <usize>(h * tq * d * 4);
    const oh = o + <usize>(h * tq * d * 4);
    const kv = (<usize>(h / group) * <usize>kvStride) << 2;
    for (let i0 = 0; i0 < tq; i0 += bq) {
      const rows = min(bq, tq - i0);
      for (let r = 0; r < rows; r++) {
        store<f32>(mRow + <usize>(r * 4), -Infinity);
        store<f32>(lRow + <usize>(r * 4), 0);
      }
      memory.fill(oh + <usize>(i0 * d * 4), 0, <usize>(rows * d * 4));
      const qFirst = i0 + shift;
      const qLast = i0 + rows - 1 + shift;
      // The block's first row sees keys up to hiFirst: a key tile wholly before hiFirst's window is
      // too old for every row of the block (later rows' windows end later or at the same key).
      const hiFirst = causal !== 0 ? min(qFirst, tk - 1) : tk - 1;
      for (let j0 = 0; j0 < tk; j0 += bk) {
        const cols = min(bk, tk - j0);
        if (causal !== 0 && j0 > qLast) break; // every key of this tile is in the future
        if (window > 0 && hiFirst - (j0 + cols - 1) >= window) continue; // all keys too old
        attentionTile(
          rows,
          cols,
          d,
          qh + <usize>(i0 * d * 4),
          d,
          k + kv + <usize>(j0 * d * 4),
          d,
          v + kv + <usize>(j0 * d * 4),
          d,
          scale,
          qFirst,
          j0,
          causal,
          window,
          tk - 1,
          mRow,
          lRow,
          oh + <usize>(i0 * d * 4),
          d,
          s,
        );
      }
      attentionFinish(rows, d, lRow, oh + <usize>(i0 * d * 4), d);
      if (lse !== 0) {
        for (let r = 0; r < rows; r++) {
          const l = load<f32>(lRow + <usize>(r * 4));
          const at = lse + <usize>((h * tq + i0 + r) * 4);
          store<f32>(at, l > 0 ? load<f32>(mRow + <usize>(r * 4)) + Mathf.log(l) : -Infinity);
        }
      }
    }
  }
}
