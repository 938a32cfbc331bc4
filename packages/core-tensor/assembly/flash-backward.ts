// The Flash attention backward for one batch element (AssemblyScript, SIMD over the head dimension):
// recompute P = exp(scale·QKᵀ − lse) tile by tile and accumulate dQ, dK, dV, as the attention
// package's JS `flashBackwardKernel` does. Not here: the forward (attention-tile.ts), the loop over
// the batch or threads (src/wasm/flash-backward.ts).

import { expF32 } from "./fused";
import { dot } from "./simd";

/** y[c] += a·x[c] for c < d (contiguous f32). */
function axpy(y: usize, x: usize, a: f32, d: i32): void {
  const av = f32x4.splat(a);
  let c = 0;
  for (; c + 3 < d; c += 4) {
    const o = (<usize>c) << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
  for (; c < d; c++) {
    const o = (<usize>c) << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

/**
 * dq, dk, dv (+)= the gradients of O = softmax(scale·QKᵀ, masked)·V for the K/V heads g0..g1−1 and
 * every query head that reads them (query head h reads K/V head h / (heads / kvHeads)), so threads
 * given disjoint K/V heads write disjoint dk, dv. q, o, dO, dq [heads, tq, d]; k, v, dk, dv
 * [kvHeads, tk, d]; lse [heads, tq] (−∞: the row sees no key). The mask is attentionTile's: query i's
 * last key is hi = causal ? i + tk − tq : tk − 1 (at most tk − 1), and a window keeps the last
 * `window` keys up to hi. scratch: 3·bq·bk + bq f32 (P, dS and exp tiles, Dᵢ).
 */
export function attentionBackward(
  g0: i32,
  g1: i32,
  heads: i32,
  kvHeads: i32,
  tq: i32,
  tk: i32,
  d: i32,
  q: usize,
  k: usize,
  v: usize,
  o: usize,
  lse: usize,
  dO: usize,
  dq: usize,
  dk: usize,
  dv: usize,
  scale: f32,
  causal: i32,
  window: i32,
  bq: i32,
  bk: i32,
  scratch: usize,
): void {
  const group = heads / kvHeads;
  const pT = scratch; // (bq, bk) scaled score − lse, then P
  const dsT = pT + ((<usize>(bq * bk)) << 2); // (bq, bk) dP, then dS
  const diT = dsT + ((<usize>(bq * bk)) << 2); // (bq) Dᵢ = dO_i · O_i
  const shift = tk - tq;
  const rowBytes = (<usize>d) << 2;
  for (let h = g0 * group; h < g1 * group; h++) {
    const qh = q + <usize>(h * tq) * rowBytes;
    const oh = o + <usize>(h * tq) * rowBytes;
    const gh = dO + <usize>(h * tq) * rowBytes;
    const dqh = dq + <usize>(h * tq) * rowBytes;
    const kv = <usize>((h / group) * tk) * rowBytes;
    const lh = lse + ((<usize>(h * tq)) << 2);
    for (let i0 = 0; i0 < tq; i0 += bq) {
      const m = min(bq, tq - i0);
      for (let r = 0; r < m; r++) {
        const at = <usize>(i0 + r) * rowBytes;
        store<f32>(diT + ((<usize>r) << 2), dot(gh + at, oh + at, d));
      }
      // Keys any row of the block sees: [lo of its first row, hi of its last row].
      const hiFirst = causal !== 0 ? min(i0 + shift, tk - 1) : tk - 1;
      const kLo = window > 0 ? max(0, hiFirst - window + 1) : 0;
      const kHi = causal !== 0 ? min(i0 + m - 1 + shift, tk - 1) : tk - 1;
      for (let j0 = kLo; j0 <= kHi; j0 += bk) {
        const n = min(bk, kHi + 1 - j0);
        for (let r = 0; r < m; r++) {
          const i = i0 + r;
          const hi = causal !== 0 ? min(i + shift, tk - 1) : tk - 1;
          const lo = window > 0 ? max(0, hi - window + 1) : 0;
          const l = load<f32>(lh + ((<usize>i) << 2));
          const qi = qh + <usize>i * rowBytes;
          const gi = gh + <usize>i * rowBytes;
          const prow = pT + ((<usize>(r * bk)) << 2);
          const drow = dsT + ((<usize>(r * bk)) << 2);
          for (let j = 0; j < n; j++) {
            const kp = j0 + j;
            const at = (<usize>j) << 2;
            if (kp < lo || kp > hi || l === -Infinity) {
              store<f32>(prow + at, -Infinity); // exp → 0
              store<f32>(drow + at, 0);
              continue;
            }
            const kj = k + kv + <usize>kp * rowBytes;
            const vj = v + kv + <usize>kp * rowBytes;
            store<f32>(prow + at, dot(qi, kj, d) * scale - l);
            store<f32>(drow + at, dot(gi, vj, d));
          }
          expF32(prow, prow, n); // P
          const di = load<f32>(diT + ((<usize>r) << 2));
          for (let j = 0; j < n; j++) {
            const at = (<usize>j) << 2;
            const p = load<f32>(prow + at);
            store<f32>(drow + at, scale * p * (load<f32>(drow + at) - di));
          }
        }
        for (let j = 0; j < n; j++) {
          const kp = j0 + j;
          const kj = k + kv + <usize>kp * rowBytes;
          const dkj = dk + kv + <usize>kp * rowBytes;
          const dvj = dv + kv + <usize>kp * rowBytes;
          for (let r = 0; r < m; r++) {
            const at = (<usize>(r * bk + j)) << 2;
            const p = load<f32>(pT + at);
            const s = load<f32>(dsT + at);
            const row = <usize>(i0 + r) * rowBytes;
            if (p !== 0) axpy(dvj, gh + row, p, d); // dV_j += P_rj · dO_r
            if (s !== 0) {
              axpy(dkj, qh + row, s, d); // dK_j += dS_rj · Q_r
              axpy(dqh + row, kj, s, d); // dQ_r += dS_rj · K_j
            }
          }
        }
      }
    }
  }
}
