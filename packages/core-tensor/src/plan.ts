/**
 * The analytic plan: the knobs that decide bytes, FLOPs and bytes moved for a model and workload.
 * A strategy's `plan(p)` is a pure function that returns a new plan with its knobs set (GQA sets
 * `arch.kvHeads`, INT8 sets `weights.bitsPerWeight`, Flash sets `attention.kind`, ...); the estimator
 * in `@tradeoffs/model` turns a plan into bytes per ledger category. This file holds data only.
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

export type CheckpointKind = "none" | "every" | "sqrt" | "all" | "budget" | "selective";

export interface Plan {
  readonly arch: ArchSpec;
  readonly workload: WorkloadSpec;
  readonly backend: string;
  /** Linear-layer weight format; embeddings and norms stay at `baseBytes`. */
  readonly weights: {
    readonly format: string;
    readonly bitsPerWeight: number;
    /** Exact bytes of one packed [out, in] matrix (data + scales), when the format knows it. */
    readonly bytesFor?: ((out: number, inp: number) => number) | undefined;
    /**
     * The weights train in place (a published preset's own fp16 weights in mixed precision). FP32
     * always trains; packed formats are frozen unless this says otherwise.
     */
    readonly trainable?: boolean | undefined;
  };
  /** Bytes per element of unquantised tensors: weights outside linears, activations. */
  readonly baseBytes: number;
  readonly adapters: { readonly rank: number; readonly targets: readonly string[] } | null;
  readonly attention: {
    readonly kind: "standard" | "flash";
    readonly blockQ: number;
    readonly blockK: number;
  };
  readonly kv: {
    readonly dtype: string;
    /** Bytes per stored K or V element. */
    readonly bytesPerElement: number;
    /** Bytes of scale per (token, head) vector (int8: one f32). */
    readonly scaleBytesPerVector: number;
    readonly memory: "contiguous" | "paged";
    /** Tokens per block (paged). */
    readonly block: number;
  };
  readonly checkpoint: {
    readonly kind: CheckpointKind;
    readonly every: number;
    readonly budgetBytes: number;
    /**
     * Which layers start a checkpointed segment, given the per-layer activation bytes; the
     * estimator and the model use the same function. Absent for `none`.
     */
    readonly segments?:
      | ((
          layers: number,
          layerActBytes: number,
          layerInputBytes: number,
          reservedBytes?: number,
        ) => readonly (readonly number[])[])
      | undefined;
  };
  /** Why a figure is approximate; appended by strategies and the estimator. */
  readonly notes: readonly string[];
}
