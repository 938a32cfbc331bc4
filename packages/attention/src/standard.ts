/**
 * Standard attention: materialise the scores S = QKᵀ [B, H, Tq, Tk], mask and softmax them, and
 * multiply by V. Memory O(Tq·Tk) per head (kept for backward when training). The oracle for Flash.
 * Grouped heads (fewer K/V heads than Q heads) are handled by folding each group's queries into
 * rows of one matmul against the shared K/V head: no K/V copies.
 */
import {
  type AttendOptions,
  type AttentionCost,
  type AttentionShape,
  defineStrategy,
  empty,
  getBackend,
  isGradEnabled,
  matmul,
  reshape,
  ShapeError,
  scope,
  slice,
  type Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import { maskedSoftmax } from "./masked-softmax.js";
import { WINDOW_OPTION, windowPlan, withWindow } from "./window.js";

/** Validate q [B, H, Tq, D], k/v [B, Hkv, Tk, D]; returns the dimensions. */
export function attentionDims(q: Tensor, k: Tensor, v: Tensor, op: string) {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new ShapeError(
      op,
      `q, k, v must be [batch, heads, seq, headDim]; got [${q.shape}], [${k.shape}], [${v.shape}]`,
    );
  }
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const [Bk, Hkv, Tk, Dk] = k.shape as [number, number, number, number];
  if (Bk !== B || Dk !== D || v.shape.join() !== k.shape.join()) {
    throw new ShapeError(
      op,
      `k and v must be [${B}, Hkv, Tk, ${D}] and equal; got [${k.shape}] and [${v.shape}]`,
    );
  }
  if (Hkv === 0 || H % Hkv !== 0) {
    throw new ShapeError(op, `query heads (${H}) must be a multiple of K/V heads (${Hkv})`, {
      heads: H,
      kvHeads: Hkv,
    });
  }
  return { B, H, Tq, D, Hkv, Tk, group: H / Hkv };
}

/**
 * Validates the attend options `window` (positive integer) and `scale` (finite); throws a
 * ValueError naming `op` and the bad value. Call at the top of an attention kernel.
 */
export function checkAttendOptions(options: AttendOptions, op: string): void {
  if (options.window !== undefined && !(Number.isInteger(options.window) && options.window >= 1)) {
    throw new ValueError(`${op}: window must be a positive integer, got ${options.window}`);
  }
  if (options.scale !== undefined && !Number.isFinite(options.scale)) {
    throw new ValueError(`${op}: scale must be finite, got ${options.scale}`);
  }
}

/** True when autograd records an op over these tensors (grad enabled and one of them requires it). */
export function recordsGrad(...ts: Tensor[]): boolean {
  return isGradEnabled() && ts.some((t) => t.requiresGrad);
}

/**
 * The positions of each K/V head `options.keys` asks for: all of k's [B, Hkv, S, D] when undefined,
 * else an integer in [1, S] (a ValueError naming `op` otherwise).
 */
export function heldKeys(k: Tensor, options: AttendOptions, op: string): number {
  const S = k.dim(2);
  const keys = options.keys ?? S;
  if (!(Number.isInteger(keys) && keys >= 1 && keys <= S)) {
    throw new ValueError(
      `${op}: keys must be an integer in [1, ${S}] (the K/V positions), got ${options.keys}`,
      {
        keys: options.keys,
        positions: S,
      },
    );
  }
  return keys;
}

/**
 * The first `keys` positions of k and v [B, Hkv, S, D] as new tensors (copies), and the options
 * without `keys`: what an attention kernel that cannot read a prefix in place attends over.
 */
export function keysPrefix(
  k: Tensor,
  v: Tensor,
  keys: number,
  options: AttendOptions,
): { k: Tensor; v: Tensor; options: AttendOptions } {
  const { keys: _, ...rest } = options;
  return { k: slice(k, 2, 0, keys), v: slice(v, 2, 0, keys), options: rest };
}

/**
 * softmax(mask(Q·Kᵀ · scale)) · V with the full score matrix materialised. With `options.keys` < S
 * (a cache's reservation), inference reads the first `keys` positions of each K/V head in place: both
 * products run through the backend's matmul with K/V's batch stride S·D. Under autograd it attends
 * over a copy of them.
 */
export function standardAttention(q: Tensor, k: Tensor, v: Tensor, options: AttendOptions): Tensor {
  const { B, H, Tq, D, Hkv, group } = attentionDims(q, k, v, "standardAttention");
  checkAttendOptions(options, "standardAttention");
  const keys = heldKeys(k, options, "standardAttention");
  const prefix = keys < k.dim(2);
  if (prefix && recordsGrad(q, k, v)) {
    // training: the prefix copied first, so that autograd sees whole tensors
    return scope(() => {
      const p = keysPrefix(k, v, keys, options);
      return standardAttention(q, p.k, p.v, p.options);
    });
  }
  const scale = options.scale ?? 1 / Math.sqrt(D);
  return scope(() => {
    const qg = reshape(q, [B, Hkv, group * Tq, D]); // (B, Hkv, g·Tq, D): a view, heads of a group stacked
    // (B, Hkv, g·Tq, keys)
    const s = prefix ? headsProduct(qg, k, keys, true) : matmul(qg, k, { transB: true });
    const p = maskedSoftmax(s, Tq, scale, options.causal, options.window);
    s.dispose();
    const o = prefix ? headsProduct(p, v, keys, false) : matmul(p, v); // (B, Hkv, g·Tq, D)
    return reshape(o, [B, H, Tq, D]);
  });
}

/**
 * a [B, Hkv, m, ·] times the first `keys` rows of each head of kv [B, Hkv, S, D], read in place (heads
 * S·D floats apart), by the backend's matmul: a·Kᵀ [B, Hkv, m, keys] with `transB` (a's rows of D),
 * else a·V [B, Hkv, m, D] (a's rows of keys). Inference only: nothing is recorded for backward.
 */
function headsProduct(a: Tensor, kv: Tensor, keys: number, transB: boolean): Tensor {
  const [B, Hkv, S, D] = kv.shape as [number, number, number, number];
  const m = a.dim(2);
  const k = transB ? D : keys;
  const n = transB ? keys : D;
  const c = empty([B, Hkv, m, n]);
  getBackend().matmul({
    m,
    n,
    k,
    batch: B * Hkv,
    a: a.data, // f32 only: .data throws a DTypeError otherwise
    aOffset: 0,
    aBatchStride: m * k,
    transA: false,
    b: kv.data,
    bOffset: 0,
    bBatchStride: S * D,
    transB,
    c: c.data,
    cOffset: 0,
    cBatchStride: m * n,
  });
  return c;
}

/**
 * Standard's costs: the probabilities [B, H, Tq, Tk] are saved for backward; scores and
 * probabilities are live together; QKᵀ runs through the backend's matmul; every key is scored; decode
 * reads a cache's K/V in place on any backend.
 */
export const standardCost: AttentionCost = Object.freeze({
  savedElements: (s: AttentionShape) => s.batch * s.heads * s.tq * s.tk,
  tmpElements: (s: AttentionShape) => 2 * s.batch * s.heads * s.tq * s.tk,
  matmulOperandElements: (s: AttentionShape) =>
    s.batch * s.heads * s.tq * s.headDim +
    s.batch * s.kvHeads * s.tk * s.headDim +
    s.batch * s.heads * s.tq * s.tk,
  keysPerQuery: (_tq: number, tk: number) => tk,
  exactTmp: true,
  readsCacheInPlace: true,
});

/**
 * `Standard`: attention with materialised scores (O(n²) temporaries); the baseline and oracle for
 * `Flash`. `Standard[window=4096]` masks to a sliding window (the scores are still materialised:
 * the window saves KV memory, not attention temporaries).
 */
export const standard = defineStrategy({
  name: "Standard",
  slot: "attention",
  description: "Materialised attention scores (O(n²) temporaries and saved activations)",
  options: { window: WINDOW_OPTION },
  labelOptions: [],
  plan: (p, o) => ({ ...windowPlan(p, o.window), attention: standardCost }),
  exec: (o) => ({
    attend: (q: Tensor, k: Tensor, v: Tensor, a: AttendOptions) =>
      standardAttention(q, k, v, withWindow(a, o.window)),
    // inference reads a cache's reservation in place through the backend's matmul (`keys`)
    keysInPlace: true,
  }),
});
