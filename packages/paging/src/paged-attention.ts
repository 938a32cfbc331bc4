/**
 * Attention that reads K/V block by block through a block table (online softmax across blocks,
 * grouped heads sharing one decoded K/V tile), never gathering the sequence into one tensor.
 * Inference only: no autograd. The oracle is standard attention over the gathered K/V.
 */
import {
  type AttendOptions,
  empty,
  type KvStore,
  ShapeError,
  type Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";

/**
 * Where a sequence's K/V vectors are: `stores[j]` holds token positions [j·block, (j+1)·block), and
 * inside a store the vector of (layer, K=0/V=1, head, slot) is at ((layer·2 + kv)·kvHeads + head)·block + slot.
 * A contiguous reservation is the same with one block of `maxTokens` slots.
 */
export interface BlockView {
  /** Block storage in position order. */
  readonly stores: readonly KvStore[];
  /** Token slots per block. */
  readonly block: number;
  /** K/V heads. */
  readonly kvHeads: number;
  /** Head dimension. */
  readonly headDim: number;
}

/** Key slots decoded per tile when the store is not f32 (fixed scratch: 2 · TILE · headDim floats). */
const TILE = 32;

/**
 * softmax(q·Kᵀ·scale, masked) · V for one sequence. q [1, H, Tq, D]; the sequence has `tk` cached
 * positions in `view` (including the Tq new ones). Causal masking is bottom-right aligned as in
 * `AttendOptions`. Returns [1, H, Tq, D] in `tmp`.
 */
export function attendBlocks(
  q: Tensor,
  view: BlockView,
  tk: number,
  layer: number,
  options: AttendOptions,
): Tensor {
  if (q.rank !== 4 || q.dim(0) !== 1 || q.dim(3) !== view.headDim) {
    throw new ShapeError("pagedAttention", `q must be [1, H, Tq, ${view.headDim}], got [${q.shape}]`);
  }
  const [, H, Tq, D] = q.shape as [number, number, number, number];
  const Hkv = view.kvHeads;
  if (H % Hkv !== 0) {
    throw new ShapeError("pagedAttention", `query heads (${H}) must be a multiple of K/V heads (${Hkv})`);
  }
  if (tk < Tq)
    throw new ValueError(`pagedAttention: ${Tq} queries but only ${tk} cached positions; append K/V first`);
  if (options.window !== undefined && !(Number.isInteger(options.window) && options.window >= 1)) {
    throw new ValueError(`pagedAttention: window must be a positive integer, got ${options.window}`);
  }
  const bs = view.block;
  const nBlocks = Math.ceil(tk / bs);
  if (view.stores.length < nBlocks) {
    throw new ValueError(
      `pagedAttention: ${tk} positions need ${nBlocks} blocks, the table has ${view.stores.length}`,
    );
  }
  const g = H / Hkv;
  const scale = options.scale ?? 1 / Math.sqrt(D);
  const qd = q.data;
  const out = empty([1, H, Tq, D]); // (1, H, Tq, D): unnormalised accumulators until the end
  const o = out.data;
  const stats = empty([2, H * Tq]); // running max m and denominator l per query row
  const m = stats.data.subarray(0, H * Tq).fill(Number.NEGATIVE_INFINITY);
  const l = stats.data.subarray(H * Tq);
  // Fixed scratch, independent of the sequence length.
  const scores = new Float32Array(TILE);
  let kbuf: Float32Array | null = null;
  let vbuf: Float32Array | null = null;
  const shift = tk - Tq;

  for (let hk = 0; hk < Hkv; hk++) {
    const kBase = (layer * 2 * Hkv + hk) * bs; // vector index of (layer, K, hk, slot 0)
    const vBase = ((layer * 2 + 1) * Hkv + hk) * bs;
    for (let j = 0; j < nBlocks; j++) {
      const store = view.stores[j]!;
      const start = j * bs;
      const n = Math.min(bs, tk - start);
      for (let t0 = 0; t0 < n; t0 += TILE) {
        const cnt = Math.min(TILE, n - t0);
        const p0 = start + t0; // first key position of this tile
        // Earliest query that can see p0 (causal): i + shift >= p0.
        if (options.causal && p0 > Tq - 1 + shift) continue;
        let K: Float32Array;
        let V: Float32Array;
        let kOff: number;
        let vOff: number;
        const f32 = store.f32;
        if (f32) {
          K = f32;
          V = f32;
          kOff = (kBase + t0) * D;
          vOff = (vBase + t0) * D;
        } else {
          kbuf ??= new Float32Array(TILE * D);
          vbuf ??= new Float32Array(TILE * D);
          for (let s = 0; s < cnt; s++) {
            store.read(kBase + t0 + s, kbuf, s * D);
            store.read(vBase + t0 + s, vbuf, s * D);
          }
          K = kbuf;
          V = vbuf;
          kOff = 0;
          vOff = 0;
        }
        for (let hh = 0; hh < g; hh++) {
          const h = hk * g + hh;
          for (let i = 0; i < Tq; i++) {
            const pos = i + shift;
            const hi = options.causal ? pos : tk - 1;
            const lo =
              options.window !== undefined ? (options.causal ? pos : tk - 1) - options.window + 1 : 0;
            const a = Math.max(lo, p0);
            const b = Math.min(hi, p0 + cnt - 1);
            if (a > b) continue;
            const row = h * Tq + i;
            const qo = row * D;
            let tileMax = Number.NEGATIVE_INFINITY;
            for (let p = a; p <= b; p++) {
              const ko = kOff + (p - p0) * D;
              let s = 0;
              for (let d = 0; d < D; d++) s += qd[qo + d]! * K[ko + d]!;
              s *= scale;
              scores[p - a] = s;
              if (s > tileMax) tileMax = s;
            }
            const mOld = m[row]!;
            const mNew = Math.max(mOld, tileMax);
            const corr = Math.exp(mOld - mNew); // 0 when mOld = −∞
            let sum = l[row]! * corr;
            if (corr !== 1) for (let d = 0; d < D; d++) o[qo + d] = o[qo + d]! * corr;
            for (let p = a; p <= b; p++) {
              const e = Math.exp(scores[p - a]! - mNew);
              sum += e;
              const vo = vOff + (p - p0) * D;
              for (let d = 0; d < D; d++) o[qo + d] = o[qo + d]! + e * V[vo + d]!;
            }
            m[row] = mNew;
            l[row] = sum;
          }
        }
      }
    }
  }
  for (let row = 0; row < H * Tq; row++) {
    const inv = l[row]! > 0 ? 1 / l[row]! : 0;
    for (let d = 0; d < D; d++) o[row * D + d] = o[row * D + d]! * inv;
  }
  stats.dispose();
  return out;
}

/** The part of a paged cache that `pagedAttention` reads. */
export interface PagedSource {
  /** Blocks of `seqId` and its cached positions for `layer` (committed plus appended-but-pending). */
  blockView(seqId: number, layer: number): { view: BlockView; tokens: number };
}

/**
 * Attention of q [1, H, Tq, D] over everything `cache` holds for `seqId` at `layer` (append this
 * step's K/V first), read through the block table. Output [1, H, Tq, D] in `tmp`.
 */
export function pagedAttention(
  q: Tensor,
  cache: PagedSource,
  seqId: number,
  layer: number,
  options: AttendOptions,
): Tensor {
  const { view, tokens } = cache.blockView(seqId, layer);
  return attendBlocks(q, view, tokens, layer, options);
}
