/**
 * Size first (llm.c): one description of the tensors a `Transformer` layer saves for backward and
 * holds live in its forward, as element counts under a plan. The estimator sums and maxes these;
 * the model sizes its checkpoint segments from them. Attention's share comes from the attention
 * strategy's own cost hooks. Not here: bytes per category for a whole workload (estimator.ts).
 */
import type { ArchSpec, AttentionShape, Plan } from "@tradeoffs/core-tensor";
import { qkHeadDim } from "./params.js";

/** One named tensor (or group of tensors) and its element count. */
export interface TensorSize {
  /** What the tensor is (`rotated q`, `normed h (input of q, k, v)`, …). */
  readonly name: string;
  /** Its element count under the plan. */
  readonly elements: number;
}

/** Tensors live together at one point of a forward. */
export interface LiveSet {
  /** The point of the forward (`projections`, `attention`, `FFN`, …). */
  readonly phase: string;
  /** The tensors live together there. */
  readonly tensors: readonly TensorSize[];
}

/** Σ elements of a list of tensors. */
export function totalElements(tensors: readonly TensorSize[]): number {
  return tensors.reduce((s, t) => s + t.elements, 0);
}

/** Whether the linear layers' own weights receive gradients (a trainable format and no adapters). */
export function linearsTrainable(plan: Plan): boolean {
  return !plan.adapters && plan.weights.trainable;
}

function attentionShape(plan: Plan, batch: number, tq: number, tk: number): AttentionShape {
  const { heads, kvHeads, headDim } = plan.arch;
  return { batch, heads, kvHeads, tq, tk, headDim };
}

/**
 * Elements per token of one layer's q and of its k and v as attention reads them: H·D and 2·Hkv·D;
 * MLA expands k (nope + rope) and v (headDim) per head from the latent, and q has nope + rope dims.
 */
export function qkvElementsPerToken(arch: ArchSpec): { q: number; kv: number } {
  const { heads: H, kvHeads: Hkv, headDim: D } = arch;
  return arch.mla ? { q: H * qkHeadDim(arch), kv: H * (qkHeadDim(arch) + D) } : { q: H * D, kv: 2 * Hkv * D };
}

/**
 * What one layer saves for backward on batch × seq tokens: attention-norm input and rstd, normed h,
 * rotated q, k and v, the attention's own saves, merged heads, FFN-norm input and rstd, normed h2,
 * the FFN's saves and each adapter's rank-r intermediate. A linear layer's input is saved only when
 * its weight (or an adapter on it) needs a gradient.
 */
export function layerSaved(plan: Plan, batch: number, seq: number): TensorSize[] {
  const { dModel: d, heads: H, headDim: D, ffnHidden: F, mla } = plan.arch;
  const qkv = qkvElementsPerToken(plan.arch);
  const N = batch * seq;
  const grads = (...roles: string[]) =>
    linearsTrainable(plan) || roles.some((r) => plan.adapters?.targets.includes(r));
  const rank = plan.adapters?.rank ?? 0;
  const adapted = ["q", "k", "v", "o", "gate", "up", "down"].filter((r) =>
    plan.adapters?.targets.includes(r),
  ).length;
  const dense = plan.arch.experts <= 1;
  const sizes: TensorSize[] = [
    { name: "attention norm input and rstd", elements: N * (d + 1) },
    { name: "normed h (input of q, k, v)", elements: grads("q", "k", "v") ? N * d : 0 },
    { name: "rotated q", elements: N * qkv.q },
    { name: "rotated k, v", elements: N * qkv.kv },
    // MLA: the compressed latent (kv_a's output) and its normed copy, the input of kv_b
    { name: "MLA latent", elements: mla ? N * (2 * mla.kvLoraRank + mla.ropeHeadDim) : 0 },
    { name: "attention", elements: plan.attention.savedElements(attentionShape(plan, batch, seq, seq)) },
    { name: "merged heads (input of o)", elements: grads("o") ? N * H * D : 0 },
    { name: "FFN norm input and rstd", elements: N * (d + 1) },
    { name: "normed h2 (input of gate, up)", elements: dense && grads("gate", "up") ? N * d : 0 },
    { name: "FFN", elements: ffnActElements(plan, N) },
    // The SwiGLU product is the input of `down`: not saved when `down` needs no gradient.
    { name: "product (input of down)", elements: dense && !grads("down") ? -N * F : 0 },
    { name: "adapter intermediates", elements: adapted * N * rank },
  ];
  return sizes.filter((t) => t.elements !== 0);
}

/** Elements one layer saves for backward (Σ `layerSaved`). */
export function layerActElements(plan: Plan, batch: number, seq: number): number {
  return totalElements(layerSaved(plan, batch, seq));
}

/** FFN activations saved per layer: SwiGLU gate, silu(gate), up and their product (4·N·F) per token routed. */
export function ffnActElements(plan: Plan, N: number): number {
  const { ffnHidden: F, experts: E, topK: k, sharedExperts: S, dModel: d } = plan.arch;
  if (E <= 1) return (plan.arch.ffnKind === "swiglu" ? 4 : 2) * N * F;
  // Routed: router logits and probabilities (2·N·E); per routed token the gathered input, the four
  // SwiGLU tensors and the gate-scaled output; shared experts as dense. Frozen experts save neither
  // their gathered input nor the product that feeds `down`.
  const routed = N * Math.min(k, E);
  const frozen = !linearsTrainable(plan);
  return 2 * N * E + routed * (4 * F + 2 * d) - (frozen ? routed * (d + F) : 0) + S * 4 * N * F;
}

/**
 * Head activations saved in training (bytes): final-norm input + rstd, normed h (when the head
 * trains), logits at `baseBytes`, plus i32 ids and targets.
 */
export function headActBytes(plan: Plan, N: number): number {
  const { dModel: d, vocab: V } = plan.arch;
  const headTrains = !plan.adapters;
  return (N * (d + 1) + (headTrains ? N * d : 0) + N * V) * plan.baseBytes + 2 * N * 4;
}

/**
 * The sets of temporaries live together in one layer's inference forward, in `Transformer`'s order
 * of allocation and disposal: projections, head split and RoPE, the cache read (decode), attention
 * (the strategy's own workspace), and the FFN (x, x2, normed input, silu(gate), up, product).
 * `gathered`: the positions a decode step copies out of the cache (`cacheGathered`).
 */
export function layerLiveSets(
  plan: Plan,
  batch: number,
  tq: number,
  tk: number,
  gathered = tk > tq ? tk : 0,
): LiveSet[] {
  const { dModel: d, ffnHidden: F, experts: E, topK: k } = plan.arch;
  const N = batch * tq;
  const qkv = qkvElementsPerToken(plan.arch);
  const A = N * qkv.q;
  const K = (N * qkv.kv) / 2;
  const width = E > 1 ? Math.min(k, E) : 1;
  const t = (name: string, elements: number): TensorSize => ({ name, elements });
  const residual = t("residual x", N * d);
  const projections = [t("q", A), t("k, v", 2 * K)];
  return [
    { phase: "projections", tensors: [residual, t("normed h", N * d), ...projections] },
    { phase: "q split into heads", tensors: [residual, t("q, q heads", 2 * A), t("k, v", 2 * K)] },
    { phase: "k split and rotated", tensors: [residual, t("q", A), t("k, v, k heads", 3 * K)] },
    {
      phase: "attention",
      tensors: [
        residual,
        ...projections,
        // decode gathers K and V from the cache unless the attention reads them in place
        // (`cacheGathered`; Flash on WASM does too, but Flash's tmp is modelled, not exact)
        t("cache read", batch * gathered * qkv.kv),
        t("attention workspace", plan.attention.tmpElements(attentionShape(plan, batch, tq, tk))),
      ],
    },
    {
      phase: "FFN",
      tensors: [t("x, x2, normed h2", 3 * N * d), t("silu(gate), up, product", 3 * N * F * width)],
    },
    { phase: "FFN output", tensors: [t("x, x2, normed h2, out", 4 * N * d), t("product", N * F * width)] },
  ];
}

/** Largest set of simultaneously live temporaries in one layer's inference forward (elements). */
export function layerTmpElements(
  plan: Plan,
  batch: number,
  tq: number,
  tk: number,
  gathered = tk > tq ? tk : 0,
): number {
  return Math.max(...layerLiveSets(plan, batch, tq, tk, gathered).map((s) => totalElements(s.tensors)));
}

/**
 * Positions a decode step over `tk` cached keys copies out of the cache: none when the attention reads
 * them in place (`AttentionCost.readsCacheInPlace`) and the cache lends them (`KvCost.views`: one
 * sequence, fp32 elements, no ring wrapped: `wrapped` says one has; not MLA's latents, which are
 * expanded), else all `tk`.
 */
export function cacheGathered(plan: Plan, batch: number, tk: number, wrapped: boolean): number {
  const lent =
    plan.kv.views === true && batch === 1 && plan.kv.dtype === "fp32" && !wrapped && !plan.arch.mla;
  return lent && plan.attention.readsCacheInPlace === true ? 0 : tk;
}
