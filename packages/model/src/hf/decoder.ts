/**
 * The fields every Llama-like decoder's config.json shares (width, layers, heads, KV heads, head
 * size, vocabulary, context, RoPE) read and cross-checked once, and the `HfModel` each family module
 * returns. Not here: family-specific fields (qwen2.ts, gemma.ts, deepseek.ts, ...).
 */
import type { ArchSpec } from "@tradeoffs/core-tensor";
import { type ConfigFields, HF_LIMITS } from "./fields.js";

/** An architecture read from a config.json, with what the estimate approximates. */
export interface HfModel {
  /** The architecture as the estimator counts it. */
  readonly arch: ArchSpec;
  /** The config's `model_type`. */
  readonly family: string;
  /**
   * Parameters the checkpoint holds that `arch` does not count (negative: counted but absent in the
   * checkpoint); 0 when the estimator counts the family exactly. Each part is named in `notes`.
   */
  readonly missingParams: number;
  /** What the estimate approximates for this family, one line each; empty when nothing is. */
  readonly notes: readonly string[];
}

/** One approximation and the parameters it leaves out of (or adds to) the count. */
export interface Gap {
  readonly params: number;
  readonly note: string;
}

/** The shared sizes of a decoder config (NaN where a field was bad; `fields.done()` then throws). */
export interface DecoderFields {
  readonly d: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocab: number;
  readonly maxSeq: number;
  readonly ropeTheta: number;
  readonly normEps: number;
}

/**
 * Read `hidden_size`, `num_hidden_layers`, `num_attention_heads`, `num_key_value_heads` (default:
 * the heads), `head_dim` (default: hidden_size / heads, which must then be an integer),
 * `vocab_size`, `max_position_embeddings`, `rope_theta` and `rms_norm_eps`, and check that the KV
 * heads are at most, and divide, the attention heads. A family whose head sizes have other names
 * (MLA) passes `defaults.headDim`.
 */
export function readDecoder(
  f: ConfigFields,
  defaults: { maxSeq: number; normEps: number; headDim?: number },
): DecoderFields {
  const d = f.int("hidden_size", HF_LIMITS.hidden_size);
  const layers = f.int("num_hidden_layers", HF_LIMITS.num_hidden_layers);
  const heads = f.int("num_attention_heads", HF_LIMITS.num_attention_heads);
  const kvHeads = f.int("num_key_value_heads", HF_LIMITS.num_attention_heads, heads);
  if (!Number.isFinite(heads) || !Number.isFinite(kvHeads)) {
    // already reported
  } else if (kvHeads > heads) {
    f.problem(`num_key_value_heads (${kvHeads}) must be in 1..num_attention_heads (${heads})`);
  } else if (heads % kvHeads !== 0) {
    f.problem(
      `num_key_value_heads (${kvHeads}) must divide num_attention_heads (${heads}): each KV head serves a whole group of query heads`,
    );
  }
  let headDim: number;
  if (defaults.headDim !== undefined) headDim = defaults.headDim;
  else if (f.has("head_dim")) headDim = f.int("head_dim", HF_LIMITS.head_dim);
  else {
    headDim = d / heads;
    if (Number.isFinite(headDim) && !Number.isInteger(headDim)) {
      f.problem(
        `hidden_size (${d}) / num_attention_heads (${heads}) = ${headDim.toFixed(2)} is not an integer head size; give head_dim or heads that divide hidden_size`,
      );
      headDim = Number.NaN;
    }
  }
  return {
    d,
    layers,
    heads,
    kvHeads,
    headDim,
    vocab: f.int("vocab_size", HF_LIMITS.vocab_size),
    maxSeq: f.int("max_position_embeddings", HF_LIMITS.max_position_embeddings, defaults.maxSeq),
    ropeTheta: f.positive("rope_theta", 10000),
    normEps: f.positive("rms_norm_eps", defaults.normEps),
  };
}

/**
 * Read a router's expert count and top-k and check top-k ≤ experts. `expertsKey` is the family's
 * name for the routed experts (`num_local_experts`, `num_experts`, `n_routed_experts`).
 */
export function readRouting(
  f: ConfigFields,
  expertsKey: string,
  fallbacks: { experts?: number; topK?: number } = {},
): { experts: number; topK: number } {
  const experts = f.int(expertsKey, HF_LIMITS.experts, fallbacks.experts);
  const topK = f.int("num_experts_per_tok", HF_LIMITS.experts, fallbacks.topK);
  if (topK > experts) f.problem(`num_experts_per_tok (${topK}) must be in 1..${expertsKey} (${experts})`);
  return { experts, topK };
}

/** A RoPE/RMSNorm/gated-FFN decoder with no biases and no experts, from the shared fields. */
export function llamaLike(name: string, dec: DecoderFields, ffnHidden: number, tied: boolean): ArchSpec {
  return {
    name,
    layers: dec.layers,
    dModel: dec.d,
    heads: dec.heads,
    kvHeads: dec.kvHeads,
    headDim: dec.headDim,
    ffnHidden,
    ffnKind: "swiglu",
    vocab: dec.vocab,
    tiedEmbeddings: tied,
    norm: "rmsnorm",
    positional: "rope",
    maxSeq: dec.maxSeq,
    window: undefined,
    biases: false,
    experts: 1,
    topK: 1,
    sharedExperts: 0,
    capacity: Number.POSITIVE_INFINITY,
    ropeTheta: dec.ropeTheta,
    normEps: dec.normEps,
  };
}

/** Parameters of one gated (three-matrix) FFN of width `hidden` on width `d`. */
export function gatedFfnParams(d: number, hidden: number): number {
  return 3 * d * hidden;
}

/** The model a family module returns: the architecture plus its gaps summed and listed. */
export function hfModel(
  family: string,
  arch: ArchSpec,
  gaps: readonly Gap[],
  notes: readonly string[] = [],
): HfModel {
  const counted = gaps.filter((g) => g.params !== 0);
  return {
    arch,
    family,
    missingParams: counted.reduce((s, g) => s + g.params, 0),
    notes: [
      ...counted.map(
        (g) =>
          `${g.note} (${g.params > 0 ? "not counted" : "over-counted"}: ${Math.abs(g.params).toLocaleString("en")} parameters)`,
      ),
      ...notes,
    ],
  };
}
