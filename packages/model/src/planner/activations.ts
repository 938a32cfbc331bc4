/**
 * Training activation bytes per device, after Korthikanti et al. (2022), "Reducing Activation
 * Recomputation in Large Transformer Models" (arXiv:2205.05198), §4: each tensor a layer saves for
 * backward, sized for 16-bit activations and 1-byte dropout masks, split over tensor parallelism
 * (and sequence parallelism). Generalised here to GQA, SwiGLU, MoE and Flash attention; for a GPT
 * layer it reduces to the paper's Table 2 closed forms (`korthikantiLayerBytes`). Not the
 * executable model's ledger (the estimator's `act` traces that).
 */
import type { ArchSpec } from "@tradeoffs/core-tensor";
import { denseLayerCount } from "../params.js";
import { kvHeadsPerDevice } from "./layout.js";

/** What backward recomputes: nothing, the attention core (selective), or whole layers (full). */
export const RECOMPUTES = ["none", "selective", "full"] as const;
/** What backward recomputes: `none`, `selective` (the attention core) or `full` (whole layers). */
export type Recompute = (typeof RECOMPUTES)[number];

/** The layout and recompute choices the activation formula depends on. */
export interface ActivationOptions {
  /** Tokens per sequence. */
  readonly seq: number;
  /** Sequences per micro-batch. */
  readonly microBatch: number;
  /** Tensor parallel degree t. */
  readonly tp: number;
  /** Sequence parallelism (norm and dropout activations split over t too). */
  readonly sp: boolean;
  /** What backward recomputes. */
  readonly recompute: Recompute;
  /** Flash attention never stores the a·s² scores; it keeps one fp32 log-sum-exp per row. */
  readonly flash: boolean;
  /** Dropout after attention probabilities, attention output and MLP output (GPT-3; Llama has none). */
  readonly dropout: boolean;
  /** Bytes per activation element (2 for fp16/bf16). */
  readonly bytes?: number;
}

/**
 * The paper's Table 2, bytes of activations per transformer layer for a GPT layer (MHA, 4h GeLU
 * MLP, dropout) with s tokens, micro-batch b, hidden h, a heads, tensor parallel t:
 * none: sbh(10 + 24/t + 5as/(ht)); with SP: sbh/t·(34 + 5as/h); selective: sbh(10 + 24/t); selective
 * with SP: 34·sbh/t; full recomputation: 2sbh (the layer input only).
 */
export function korthikantiLayerBytes(
  s: number,
  b: number,
  h: number,
  a: number,
  t: number,
  mode: { readonly sp: boolean; readonly recompute: Recompute },
): number {
  const sbh = s * b * h;
  if (mode.recompute === "full") return 2 * sbh;
  const quad = mode.recompute === "selective" ? 0 : (5 * a * s) / h;
  return mode.sp ? (sbh / t) * (34 + quad) : sbh * (10 + 24 / t + quad / t);
}

/** One layer's saved bytes on one device, in the paper's three groups (before recompute choices). */
export interface LayerActivation {
  /** Bytes tensor parallelism alone replicates (norm inputs, linear inputs, dropout masks); split by SP. */
  readonly replicated: number;
  /** Bytes already split over tp (per-head and per-column tensors). */
  readonly split: number;
  /** The a·s²·b attention-score terms (0 with Flash). */
  readonly quadratic: number;
  /** Saved bytes per device under the options' recompute and SP. */
  readonly total: number;
}

/**
 * One layer's activation bytes per device. Terms (per token N = s·b, e = bytes per element):
 * attention norm input e·h and QKV input e·h (replicated); Q and K e·(H + Hkv)·D, V e·Hkv·D and the
 * output projection's input e·H·D (split; K and V per device follow vLLM's KV-head replication);
 * scores: softmax output e·a·s², with dropout its mask a·s² and output e·a·s²; output dropout mask
 * h; MLP norm input e·h and first linear input e·h (replicated); GeLU input and output 2e·F or
 * SwiGLU gate, up and product 3e·F per routed expert copy (split); MLP dropout mask h.
 * `dense`: one of an MoE model's dense layers (DeepSeek's first layers: one FFN of `denseFfnHidden`,
 * no router); ignored for a model without dense layers.
 */
export function layerActivation(arch: ArchSpec, o: ActivationOptions, dense = false): LayerActivation {
  const e = o.bytes ?? 2;
  const denseLayer = dense && denseLayerCount(arch) > 0;
  const { dModel: h, heads: H, kvHeads: Hkv, headDim: D } = arch;
  const F = denseLayer ? (arch.denseFfnHidden ?? arch.ffnHidden) : arch.ffnHidden;
  const t = o.tp;
  const N = o.seq * o.microBatch;
  const mask = o.dropout ? 1 : 0;
  const kvDev = kvHeadsPerDevice(Hkv, t);
  const moe = arch.experts > 1 && !denseLayer;
  // Each token goes through topK routed experts (and every shared one); a router's fp32 logits.
  const copies = moe ? Math.min(arch.topK, arch.experts) + arch.sharedExperts : 1;
  const ffnTensors = arch.ffnKind === "swiglu" ? 3 : 2;

  const replicated =
    e * N * h + // attention norm input
    e * N * h + // QKV input
    mask * N * h + // attention output dropout mask
    e * N * h + // MLP norm input
    e * N * h * (moe ? copies : 1) + // first linear input (each routed copy)
    (moe ? 4 * N * arch.experts : 0) + // router logits (fp32)
    mask * N * h; // MLP dropout mask
  const split =
    (e * N * H * D) / t + // Q
    e * N * kvDev * D + // K
    e * N * kvDev * D + // V
    (e * N * H * D) / t + // output projection input
    (ffnTensors * e * N * F * copies) / t + // GeLU in/out or SwiGLU gate/up/product
    (o.flash ? (4 * N * H) / t : 0); // Flash's fp32 log-sum-exp per row
  const quadratic = o.flash ? 0 : ((e + (o.dropout ? 1 + e : 0)) * H * o.seq * o.seq * o.microBatch) / t;

  let total: number;
  if (o.recompute === "full") total = (e * N * h) / (o.sp ? t : 1);
  else {
    total = (o.sp ? replicated / t : replicated) + split + (o.recompute === "selective" ? 0 : quadratic);
  }
  return { replicated, split, quadratic, total };
}

/**
 * Activations outside the layers. First stage: the embedding's dropout mask (h per token, with
 * dropout). Last stage: the final norm's input and the head's input (e·h each) and fp32 logits for
 * the loss, split over tp by a vocabulary-parallel head (4·V per token), as in §4.3 of the paper.
 */
export function edgeActivation(arch: ArchSpec, o: ActivationOptions, first: boolean, last: boolean): number {
  const e = o.bytes ?? 2;
  const N = o.seq * o.microBatch;
  const t = o.tp;
  const spDiv = o.sp ? t : 1;
  let bytes = 0;
  if (first && o.dropout) bytes += (N * arch.dModel) / spDiv;
  if (last) bytes += (2 * e * N * arch.dModel) / spDiv + (4 * N * arch.vocab) / t;
  return bytes;
}

/**
 * Peak activation bytes on one pipeline stage: `layers` layers × `inFlight` micro-batches of saved
 * activations, the stage's edge activations for one micro-batch, and under full recomputation one
 * layer's complete activations rebuilt during backward (the larger kind's). An MoE model's dense
 * layers come first and sit on the first stage, as the planner places their weights.
 */
export function stageActivationBytes(
  arch: ArchSpec,
  o: ActivationOptions,
  layers: number,
  inFlight: number,
  first: boolean,
  last: boolean,
): number {
  const dense = first ? Math.min(layers, denseLayerCount(arch)) : 0;
  const saved = (d: boolean) => layerActivation(arch, o, d).total;
  const full = (d: boolean) => layerActivation(arch, { ...o, recompute: "none" }, d).total;
  const stored = (layers - dense) * saved(false) + (dense > 0 ? dense * saved(true) : 0);
  const rebuilt =
    o.recompute !== "full" ? 0 : Math.max(layers > dense ? full(false) : 0, dense > 0 ? full(true) : 0);
  const edgeInFlight = first ? inFlight : 1;
  return stored * inFlight + edgeActivation(arch, o, first, last) * edgeInFlight + rebuilt;
}
