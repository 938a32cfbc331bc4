/**
 * The analytic plan and its cost contract. A strategy's `plan(p)` is a pure function that returns a
 * new plan with its slot's cost hooks replaced (GQA sets `arch.kvHeads`, INT8 sets `weights`, Flash
 * sets `attention`, ...). The estimator in `@tradeoffs/model` only sums what the hooks report: this
 * layer names no variant, so adding a variant touches its own package alone.
 */

/** A decoder-only transformer's architecture (published numbers for presets). */
export interface ArchSpec {
  readonly name: string;
  readonly layers: number;
  readonly dModel: number;
  readonly heads: number;
  /** K/V heads (= heads for MHA, fewer for GQA, 1 for MQA). */
  readonly kvHeads: number;
  readonly headDim: number;
  /** Hidden width of one FFN expert. */
  readonly ffnHidden: number;
  /** `swiglu` (three matrices) or `gelu` (two matrices, GPT-2/3). */
  readonly ffnKind: "swiglu" | "gelu";
  readonly vocab: number;
  readonly tiedEmbeddings: boolean;
  readonly norm: "rmsnorm" | "layernorm";
  /** `rope` (no position parameters) or `learned` (a maxSeq × dModel table). */
  readonly positional: "rope" | "learned";
  readonly maxSeq: number;
  /** Sliding-window attention span (keys per query), if any. */
  readonly window?: number | undefined;
  /** Biases on linear layers and norms (GPT-2/3). */
  readonly biases: boolean;
  /** Routed experts per FFN (1 = dense). */
  readonly experts: number;
  readonly topK: number;
  /** Always-on shared experts (DeepSeekMoE-style), each of width ffnHidden. */
  readonly sharedExperts: number;
  /** Expert capacity factor (Infinity = dropless). */
  readonly capacity: number;
  readonly ropeTheta: number;
  readonly normEps: number;
}

export type WorkloadKind = "infer" | "train" | "serve" | "quality";

/** What runs: batch × (prompt + generate) for inference, batch × seq for training. */
export interface WorkloadSpec {
  readonly kind: WorkloadKind;
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
  readonly batch: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly tq: number;
  readonly tk: number;
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

export interface Plan {
  readonly arch: ArchSpec;
  readonly workload: WorkloadSpec;
  readonly backend: BackendCost;
  /** Linear-layer weight format; embeddings and norms stay at `baseBytes`. */
  readonly weights: WeightsCost;
  /** Bytes per element of unquantised tensors: weights outside linears, activations. */
  readonly baseBytes: number;
  readonly adapters: { readonly rank: number; readonly targets: readonly string[] } | null;
  readonly attention: AttentionCost;
  readonly kv: KvCost;
  readonly checkpoint: CheckpointCost;
  /** Why a figure is approximate; appended by strategies and the estimator. */
  readonly notes: readonly string[];
}
