/**
 * The JS Flash attention kernel on raw Float32Arrays: blockwise online softmax forward (saving one
 * log-sum-exp per row) and the recomputing backward. Knows nothing of tensors, the ledger or autograd
 * (`flash.ts` does that), so a backend can swap in another kernel with the same signature.
 */
import { accumulateTile, accumulateTileT, dot, dotTile } from "./flash-tiles.js";
import { visibleHi, visibleLo } from "./masked-softmax.js";

/** Everything the kernel needs to walk q [B, H, Tq, D] against k, v [B, Hkv, Tk, D]. */
export interface FlashGeometry {
  /** Batch size. */
  readonly B: number;
  /** Query heads. */
  readonly H: number;
  /** K/V heads (divides `H`; each serves H/Hkv query heads). */
  readonly Hkv: number;
  /** Query length. */
  readonly Tq: number;
  /** Key length. */
  readonly Tk: number;
  /** Head dimension. */
  readonly D: number;
  /** Query rows per tile. */
  readonly blockQ: number;
  /** Key columns per tile. */
  readonly blockK: number;
  /** Score scale (default 1/√D). */
  readonly scale: number;
  /** Causal mask, bottom-right aligned when Tq ≠ Tk. */
  readonly causal: boolean;
  /** Sliding window: each query sees at most the last `window` keys. */
  readonly window?: number | undefined;
}

/** Tile edges actually used: the requested blocks, clamped to the sequence lengths (at least 1). */
function tileEdges(g: FlashGeometry): { bq: number; bk: number } {
  return { bq: Math.min(g.blockQ, Math.max(g.Tq, 1)), bk: Math.min(g.blockK, Math.max(g.Tk, 1)) };
}

/** Elements of f32 scratch each pass needs: forward Bq·Bk + 2·Bq, backward 2·Bq·Bk + Bq. */
export function flashScratchLength(g: FlashGeometry, pass: "forward" | "backward"): number {
  const { bq, bk } = tileEdges(g);
  return pass === "forward" ? bq * bk + 2 * bq : 2 * bq * bk + bq;
}

/** Keys visible to query row i: [rowLo, rowHi] inclusive, the same mask as Standard's `visibleKeys`. */
function rowHi(g: FlashGeometry, i: number): number {
  return visibleHi(i, g.Tq, g.Tk, g.causal);
}
function rowLo(g: FlashGeometry, i: number): number {
  return visibleLo(i, g.Tq, g.Tk, g.causal, g.window);
}

/**
 * Forward. o [B, H, Tq, D] must be zero on entry; receives softmax(scale·QKᵀ)·V. lse [B, H, Tq]
 * receives the per-row log-sum-exp of the scaled scores (−∞ for a row that sees no key).
 * scratch: `flashScratchLength(g, "forward")` elements (the Bq×Bk score tile, row max, row sum).
 */
export function flashForwardKernel(
  g: FlashGeometry,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  o: Float32Array,
  lse: Float32Array,
  scratch: Float32Array,
): void {
  const { B, H, Hkv, Tq, Tk, D, scale } = g;
  const { bq, bk } = tileEdges(g);
  const group = H / Hkv;
  const sBase = 0; // (bq, bk) score / probability tile
  const mBase = bq * bk; // (bq) running max of scaled scores
  const lBase = mBase + bq; // (bq) running sum of exp(score − max)
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qHead = (b * H + h) * Tq; // row index of (b, h, 0)
      const kOff = (b * Hkv + Math.floor(h / group)) * Tk * D; // shared K/V head: no copy
      for (let i0 = 0; i0 < Tq; i0 += bq) {
        const m = Math.min(bq, Tq - i0);
        const qOff = (qHead + i0) * D;
        for (let r = 0; r < m; r++) {
          scratch[mBase + r] = Number.NEGATIVE_INFINITY;
          scratch[lBase + r] = 0;
        }
        // Keys any row of this block sees; blocks outside it are skipped (causal / window).
        const kLo = rowLo(g, i0);
        const kHi = rowHi(g, i0 + m - 1);
        for (let j0 = kLo; j0 <= kHi; j0 += bk) {
          const n = Math.min(bk, kHi + 1 - j0);
          dotTile(scratch, bk, q, qOff, m, k, kOff + j0 * D, n, D); // S = Q_i K_jᵀ  (m, n)
          for (let r = 0; r < m; r++) {
            const srow = sBase + r * bk;
            const lo = Math.max(rowLo(g, i0 + r), j0) - j0;
            const hi = Math.min(rowHi(g, i0 + r), j0 + n - 1) - j0;
            if (lo > hi) {
              scratch.fill(0, srow, srow + n);
              continue;
            }
            let mx = Number.NEGATIVE_INFINITY;
            for (let j = lo; j <= hi; j++) {
              const x = scratch[srow + j]! * scale;
              if (x > mx) mx = x;
            }
            const mOld = scratch[mBase + r]!;
            const mNew = Math.max(mx, mOld);
            let sum = 0;
            for (let j = 0; j < lo; j++) scratch[srow + j] = 0;
            for (let j = lo; j <= hi; j++) {
              const e = Math.exp(scratch[srow + j]! * scale - mNew);
              scratch[srow + j] = e;
              sum += e;
            }
            for (let j = hi + 1; j < n; j++) scratch[srow + j] = 0;
            if (mNew !== mOld) {
              const alpha = Math.exp(mOld - mNew); // 0 on the first visible block
              scratch[lBase + r] = scratch[lBase + r]! * alpha + sum;
              scratch[mBase + r] = mNew;
              if (alpha !== 1) {
                const orow = qOff + r * D;
                for (let d = 0; d < D; d++) o[orow + d] = o[orow + d]! * alpha;
              }
            } else scratch[lBase + r] = scratch[lBase + r]! + sum;
          }
          accumulateTile(o, qOff, scratch, bk, m, n, v, kOff + j0 * D, D); // O_i += P V_j  (m, D)
        }
        for (let r = 0; r < m; r++) {
          const l = scratch[lBase + r]!;
          if (l > 0) {
            const inv = 1 / l;
            const orow = qOff + r * D;
            for (let d = 0; d < D; d++) o[orow + d] = o[orow + d]! * inv;
            lse[qHead + i0 + r] = scratch[mBase + r]! + Math.log(l);
          } else lse[qHead + i0 + r] = Number.NEGATIVE_INFINITY;
        }
      }
    }
  }
}

/**
 * Backward. Recomputes P = exp(scale·QKᵀ − lse) block by block; with Dᵢ = rowsum(dO ∘ O):
 * dS = scale · P ∘ (dO·Vᵀ − Dᵢ), dV += Pᵀ·dO, dK += dSᵀ·Q, dQ += dS·K. dq, dk, dv must be zero on
 * entry; dK and dV sum over the query heads that share a K/V head.
 * scratch: `flashScratchLength(g, "backward")` elements (the P and dS tiles, Dᵢ of one block).
 */
export function flashBackwardKernel(
  g: FlashGeometry,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  o: Float32Array,
  lse: Float32Array,
  dO: Float32Array,
  dq: Float32Array,
  dk: Float32Array,
  dv: Float32Array,
  scratch: Float32Array,
): void {
  const { B, H, Hkv, Tq, Tk, D, scale } = g;
  const { bq, bk } = tileEdges(g);
  const group = H / Hkv;
  const pBase = 0; // (bq, bk) probabilities
  const dsBase = bq * bk; // (bq, bk) dP, then dS
  const diBase = 2 * bq * bk; // (bq) Dᵢ
  const ds = scratch.subarray(dsBase, diBase);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qHead = (b * H + h) * Tq;
      const kOff = (b * Hkv + Math.floor(h / group)) * Tk * D;
      for (let i0 = 0; i0 < Tq; i0 += bq) {
        const m = Math.min(bq, Tq - i0);
        const qOff = (qHead + i0) * D;
        for (let r = 0; r < m; r++) scratch[diBase + r] = dot(dO, qOff + r * D, o, qOff + r * D, D);
        const kLo = rowLo(g, i0);
        const kHi = rowHi(g, i0 + m - 1);
        for (let j0 = kLo; j0 <= kHi; j0 += bk) {
          const n = Math.min(bk, kHi + 1 - j0);
          const kj = kOff + j0 * D;
          dotTile(scratch, bk, q, qOff, m, k, kj, n, D); // S = Q_i K_jᵀ
          dotTile(ds, bk, dO, qOff, m, v, kj, n, D); // dP = dO_i V_jᵀ
          for (let r = 0; r < m; r++) {
            const row = r * bk;
            const lo = Math.max(rowLo(g, i0 + r), j0) - j0;
            const hi = Math.min(rowHi(g, i0 + r), j0 + n - 1) - j0;
            const l = lse[qHead + i0 + r]!;
            const di = scratch[diBase + r]!;
            for (let j = 0; j < n; j++) {
              if (j < lo || j > hi) {
                scratch[pBase + row + j] = 0;
                ds[row + j] = 0;
                continue;
              }
              const p = Math.exp(scratch[pBase + row + j]! * scale - l);
              scratch[pBase + row + j] = p;
              ds[row + j] = scale * p * (ds[row + j]! - di);
            }
          }
          accumulateTileT(dv, kj, scratch, bk, m, n, dO, qOff, D); // dV_j += Pᵀ dO_i
          accumulateTileT(dk, kj, ds, bk, m, n, q, qOff, D); // dK_j += dSᵀ Q_i
          accumulateTile(dq, qOff, ds, bk, m, n, k, kj, D); // dQ_i += dS K_j
        }
      }
    }
  }
}
