// The flash-attention tile loop for one head (AssemblyScript, SIMD over the head dimension): scores of
// a Bq×Bk tile, the online-softmax update of each query row's running max and sum, and the rescaled
// weighted sum of V. Not here: the loop over tiles, the final 1/l normalisation (attentionFinish) or
// the backward pass (the attention package recomputes).
import { dot, scaleInPlace } from "./simd";

/**
 * Update rows i < bq of O (bq×d, row stride ldo), mRow and lRow (bq f32 each) with one tile of keys.
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
  for (let i = 0; i < bq; i++) {
    const qi = q + <usize>(i * ldq * 4);
    const qp = qPos0 + i;
    const hi = causal !== 0 ? min(qp, kEnd) : kEnd;
    let mx: f32 = -Infinity;
    for (let j = 0; j < bk; j++) {
      const kp = kPos0 + j;
      let sc: f32 = -Infinity;
      if (kp <= hi && (window <= 0 || hi - kp < window)) {
        sc = dot(qi, k + <usize>(j * ldk * 4), d) * scale;
      }
      store<f32>(s + <usize>(j * 4), sc);
      mx = max(mx, sc);
    }
    const mOld = load<f32>(mRow + <usize>(i * 4));
    const mNew = max(mOld, mx);
    if (mNew === -Infinity) continue; // every key so far masked: nothing to add
    const alpha = mOld === -Infinity ? <f32>0 : Mathf.exp(mOld - mNew);
    const oi = o + <usize>(i * ldo * 4);
    let sum: f32 = 0;
    // O_i ← α·O_i, then O_i += p_j · V_j
    scaleInPlace(oi, d, alpha);
    for (let j = 0; j < bk; j++) {
      const sc = load<f32>(s + <usize>(j * 4));
      if (sc === -Infinity) continue;
      const p = Mathf.exp(sc - mNew);
      sum += p;
      const vj = v + <usize>(j * ldv * 4);
      const pv = f32x4.splat(p);
      let e = 0;
      for (; e + 3 < d; e += 4) {
        const at = oi + <usize>(e * 4);
        v128.store(at, f32x4.add(v128.load(at), f32x4.mul(pv, v128.load(vj + <usize>(e * 4)))));
      }
      for (; e < d; e++) {
        const at = oi + <usize>(e * 4);
        store<f32>(at, load<f32>(at) + p * load<f32>(vj + <usize>(e * 4)));
      }
    }
    store<f32>(lRow + <usize>(i * 4), alpha * load<f32>(lRow + <usize>(i * 4)) + sum);
    store<f32>(mRow + <usize>(i * 4), mNew);
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
