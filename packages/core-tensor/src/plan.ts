/**
 * The analytic plan and its cost contract. A strategy's `plan(p)` is a pure function that returns a
 * new plan with its slot's cost hooks replaced (GQA sets `arch.kvHeads`, INT8 sets `weights`, Flash
 * sets `attention`, ...). The estimator in `@tradeoffs/model` only sums what the hooks report: this
 * layer names no variant, so adding a variant touches its own package alone.
 */

/** A decoder-only transformer's architecture (published numbers for presets). */
export interface ArchSpec {
  /** Model name (the preset's, or the config's `model_type`). */
  readonly name: string;
  /** Decoder layers. */
  readonly layers: number;
  /** Residual stream width. */
  readonly dModel: number;
  /** Query heads. */
  readonly heads: number;
  /** K/V heads (= heads for MHA, fewer for GQA, 1 for MQA). */
  readonly kvHeads: number;
  /** Dimensions per head (dModel / heads for most models, larger for Gemma). */
  readonly headDim: number;
  /** Hidden width of one FFN expert. */
  readonly ffnHidden: number;
  /** `swiglu` (three matrices) or `gelu` (two matrices, GPT-2/3). */
  readonly ffnKind: "swiglu" | "gelu";
  /** Vocabulary size (rows of the embedding table and of the output head). */
  readonly vocab: number;
  /** The output head reuses the embedding matrix (no separate `lm_head`). */
  readonly tiedEmbeddings: boolean;
  /** Normalisation: RMSNorm (Llama family) or LayerNorm (GPT-2/3). */
  readonly norm: "rmsnorm" | "layernorm";
  /** `rope` (no position parameters) or `learned` (a maxSeq × dModel table). */
  readonly positional: "rope" | "learned";
  /** Longest sequence the model supports (the KV cache's reservation for `Contiguous`). */
  readonly maxSeq: number;
  /** Sliding-window attention span (keys per query), if any. */
  readonly window?: number | undefined;
  /** Biases on linear layers and norms (GPT-2/3). */
  readonly biases: boolean;
  /** Routed experts per FFN (1 = dense). */
  readonly experts: number;
  /** Experts each token is routed to (1 for dense models). */
  readonly topK: number;
  /** Always-on shared experts (DeepSeekMoE-style), each of width ffnHidden. */
  readonly sharedExperts: number;
  /** Expert capacity factor (Infinity = dropless). */
  readonly capacity: number;
  /** RoPE base frequency θ (10000 for Llama 2). */
  readonly ropeTheta: number;
  /** ε added inside each norm. */
  readonly normEps: number;
  /** Biases on the q, k and v projections only (Qwen2, Qwen-MoE); `biases` puts them everywhere. */
  readonly qkvBias?: boolean | undefined;
  /** Norms per layer (default 2, before attention and FFN; Gemma 2 adds one after each: 4). */
  readonly layerNorms?: number | undefined;
  /**
   * Layers of an MoE model whose FFN is one dense gated FFN of `denseFfnHidden` (DeepSeek's
   * `first_k_dense_replace`, Qwen-MoE's `mlp_only_layers`); default 0.
   */
  readonly denseLayers?: number | undefined;
  /** Hidden width of the dense layers' FFN (required when `denseLayers` > 0). */
  readonly denseFfnHidden?: number | undefined;
  /** A sigmoid gate (d → 1) scales the shared experts' output in each MoE layer (Qwen-MoE). */
  readonly sharedExpertGate?: boolean | undefined;
  /** Multi-head latent attention (DeepSeek-V2) in place of q, k, v projections; `headDim` is V's head size. */
  readonly mla?: MlaSpec | undefined;
  /**
   * Of the layers, how many attend within `window` (default: all when `window` is set); the rest
   * attend globally (Gemma 2: every other layer).
   */
  readonly windowLayers?: number | undefined;
  /** tanh soft-capping (cap · tanh(x / cap)) of attention scores and final logits (Gemma 2). */
  readonly logitSoftcap?:
    | { readonly attention?: number | undefined; readonly final?: number | undefined }
    | undefined;
}

/**
 * Multi-head latent attention (DeepSeek-V2, Liu et al. 2024, section 2.1): K and V are expanded per
 * head from one cached latent of `kvLoraRank` plus one shared RoPE key of `ropeHeadDim`; queries go
 * through an optional `qLoraRank` bottleneck. The cache holds kvLoraRank + ropeHeadDim per token and layer.
 */
export interface MlaSpec {
  /** Rank of the compressed KV latent (`kv_lora_rank`): what the cache holds besides the RoPE key. */
  readonly kvLoraRank: number;
  /** Query bottleneck rank; undefined: one d → heads·(nope + rope) projection. */
  readonly qLoraRank?: number | undefined;
  /** Per-head dims of the decoupled RoPE part of q and k (`qk_rope_head_dim`). */
  readonly ropeHeadDim: number;
  /** Per-head dims of the position-free part of q and k (`qk_nope_head_dim`); V's are `headDim`. */
  readonly nopeHeadDim: number;
}

/** The kinds of workload the estimator and the workloads understand. */
export type WorkloadKind = "infer" | "train" | "serve" | "quality";

/** What runs: batch × (prompt + generate) for inference, batch × seq for training. */
export interface WorkloadSpec {
  /** Which workload. */
  readonly kind: WorkloadKind;
  /** Sequences run together. */
  readonly batch: number;
  /** Prompt length (infer) or sequence length (train). */
  readonly seq: number;
  /** Tokens generated after the prompt (infer). */
  readonly generate: number;
}

// ---------------------------------------------------------------------------------------------
// The cost contract: one hook object per slot that has costs of its own. Element counts are
// multiplied by the plan's `baseBytes` by the estimator; byte counts are final.

/** The shape of one attention call: q [batch, heads, tq, headDim]; k, v [batch, kvHeads, tk, headDim]. */
export interface AttentionShape {
  /** Batch size. */
  readonly batch: number;
  /** Query heads. */
  readonly heads: number;
  /** K/V heads (fewer than `heads` under GQA/MQA). */
  readonly kvHeads: number;
  /** Query positions in this call. */
  readonly tq: number;
  /** Key positions attended over. */
  readonly tk: number;
  /** Dimensions per head. */
  readonly headDim: number;
}

/** The `attention` slot's costs. */
export interface AttentionCost {
  /** Elements one attention call saves for backward, beyond its inputs q, k, v. */
  savedElements(s: AttentionShape): number;
  /** Peak elements live inside one attention call (its output included). */
  tmpElements(s: AttentionShape): number;
  /**
   * Operand elements (A + B + C) of the largest product the attention runs through the backend's
   * matmul; 0 when it never does (a kernel of its own).
   */
  matmulOperandElements(s: AttentionShape): number;
  /** Keys each query is scored against on average (FLOPs of QKᵀ and PV). */
  keysPerQuery(tq: number, tk: number): number;
  /** `tmpElements` follows the kernel exactly (else a note says it is modelled). */
  readonly exactTmp: boolean;
  /**
   * Decode attends over a cache's K/V in place on every backend (`AttentionExec.keysInPlace`), so no
   * gathered copy is live when the cache lends them (`KvCost.views`). Default false.
   */
  readonly readsCacheInPlace?: boolean | undefined;
}

/** The `weights` slot's costs: the storage format of every linear layer's matrix. */
export interface WeightsCost {
  /** The format's name as reports print it (`FP32`, `NF4`, ...). */
  readonly format: string;
  /** Average bits per weight including scales (for display and formulas that need a rate). */
  readonly bitsPerWeight: number;
  /** Exact bytes of one [out, in] matrix in this format (data + scales). */
  bytesFor(out: number, inp: number): number;
  /**
   * The weights train in place (FP32; a published preset's own fp16 weights in mixed precision).
   * Packed formats are frozen.
   */
  readonly trainable: boolean;
  /** f32 elements of workspace one product with an [out, in] matrix adds (a dequantised tile). */
  workspaceElements(out: number, inp: number): number;
  /** Why `workspaceElements` is approximate, when it is. */
  readonly workspaceNote?: string | undefined;
}

/** The `kv-dtype` and `kv-memory` slots' costs: bytes per cached token and tokens reserved. */
export interface KvCost {
  /** Element type name (`fp32`, `fp16`, `int8`). */
  readonly dtype: string;
  /** Bytes per stored K or V element. */
  readonly bytesPerElement: number;
  /** Bytes of scale per (token, head) vector (int8: one f32). */
  readonly scaleBytesPerVector: number;
  /** Token slots one sequence holds in memory for `tokens` tokens (paged rounds up to blocks). */
  reservedTokens(tokens: number): number;
  /**
   * The cache lends a layer's K/V in place (`KvCache.view`) for one sequence with fp32 elements until
   * a ring wraps (the contiguous layout); else decode gathers them. Default false.
   */
  readonly views?: boolean | undefined;
}

/** Groups of consecutive layers run under one checkpoint each; `[]` keeps everything. */
export type SegmentList = readonly (readonly number[])[];

/** The `checkpoint` slot's costs (the model runs the same `segments`). */
export interface CheckpointCost {
  /**
   * Which layers start a checkpointed segment, from real byte sizes: one layer's saved activation
   * bytes, one layer input's bytes, and activation bytes held outside the layers (embedding, head)
   * that a budget must leave room for.
   */
  segments(
    layers: number,
    layerActBytes: number,
    layerInputBytes: number,
    reservedBytes?: number,
  ): SegmentList;
  /** Peak activation bytes inside the layer stack over forward and backward for `segments`. */
  peakAct(layers: number, layerActBytes: number, layerInputBytes: number, segments: SegmentList): number;
  /** Why `peakAct` is approximate, when it is. */
  readonly note?: string | undefined;
}

/** The `backend` slot's costs. */
export interface BackendCost {
  /** Backend name as configurations spell it (`JS`, `WASM`). */
  readonly name: string;
  /**
   * Workspace bytes the backend's matmul holds beside its operands' own tensors, for a product
   * whose operands have `operandElements` elements in all (WASM copies them into its memory and
   * packs panels there); 0 for a backend that works in place.
   */
  matmulWorkspaceBytes(operandElements: number): number;
  /** Weights live in the backend's own memory, so a product never copies its weight operand. */
  readonly residentWeights: boolean;
  /** Why the workspace is approximate, when it is not 0. */
  readonly note?: string | undefined;
}

/**
 * The analytic plan one estimate is computed from: architecture, workload, and one cost hook object per
 * slot. Each strategy's `plan(p)` returns a new plan with its own slot's hooks replaced; the estimator only
 * sums what the hooks report.
 */
export interface Plan {
  /** The architecture (after strategies such as GQA changed it). */
  readonly arch: ArchSpec;
  /** What runs. */
  readonly workload: WorkloadSpec;
  /** The `backend` slot's costs. */
  readonly backend: BackendCost;
  /** Linear-layer weight format; embeddings and norms stay at `baseBytes`. */
  readonly weights: WeightsCost;
  /** Bytes per element of unquantised tensors: weights outside linears, activations. */
  readonly baseBytes: number;
  /** Trainable low-rank adapters (LoRA): rank and target projections; `null` without adapters. */
  readonly adapters: { readonly rank: number; readonly targets: readonly string[] } | null;
  /** The `attention` slot's costs. */
  readonly attention: AttentionCost;
  /** The `kv-dtype` and `kv-memory` slots' costs. */
  readonly kv: KvCost;
  /** The `checkpoint` slot's costs. */
  readonly checkpoint: CheckpointCost;
  /** Why a figure is approximate; appended by strategies and the estimator. */
  readonly notes: readonly string[];
}
