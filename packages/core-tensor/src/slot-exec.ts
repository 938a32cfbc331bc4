/**
 * The executable part of each slot: what a strategy's `exec` provides (attend, pack, segments,
 * createCache, ...). A model is built from these; nothing here names a variant. Not here: the
 * Strategy contract (strategy.ts) or costs (plan.ts).
 */
import type { Backend } from "./backend.js";
import type { Storage } from "./ledger.js";
import type { Rng } from "./rng.js";
import type { SequenceCache, SequenceCacheSpec } from "./sequence-cache.js";
import type { Tensor } from "./tensor.js";

/** Slots in the order a configuration lists them. */
export const SLOTS = [
  "backend",
  "attention",
  "heads",
  "weights",
  "adapters",
  "checkpoint",
  "ffn",
  "kv-dtype",
  "kv-memory",
] as const;
/** One of the nine places a strategy can fill (`backend`, `attention`, `heads`, …). */
export type Slot = (typeof SLOTS)[number];

/** Options of one attention call. q [B, H, Tq, D]; k, v [B, Hkv, Tk, D] with H % Hkv = 0. */
export interface AttendOptions {
  /** Causal mask aligned bottom-right: query i sees keys ≤ i + (Tk − Tq). */
  readonly causal: boolean;
  /** Sliding window: each query sees at most the last `window` keys. */
  readonly window?: number | undefined;
  /** Score scale; default 1/√D. */
  readonly scale?: number | undefined;
  /**
   * Keys held: attend over the first `keys` positions of each K/V head only, k and v being
   * [B, Hkv, S, D] with 1 ≤ keys ≤ S (a cache's reservation read in place, `KvCache.view`; the causal
   * mask aligns to `keys`). Default: all S.
   */
  readonly keys?: number | undefined;
}

/** The `attention` slot's executable part. */
export interface AttentionExec {
  /** Differentiable attention; output [B, H, Tq, D]. Must not copy K/V per query head. */
  attend(q: Tensor, k: Tensor, v: Tensor, options: AttendOptions): Tensor;
  /**
   * True when `attend` reads the first `options.keys` positions in place where its backend has a
   * kernel for it (no copy of K/V): the model then attends over a cache's `view` rather than its
   * `read`. Every `attend` honours `keys`; without this flag it may copy those positions first.
   */
  readonly keysInPlace?: boolean;
}

/** The `heads` slot's executable part: the K/V head layout (MHA, GQA, MQA). */
export interface HeadsExec {
  /**
   * K or V projection rows stored for `fromHeads` heads ([fromHeads·headDim, in], e.g. an MHA
   * checkpoint) converted to this layout's K/V heads for a model with `heads` query heads: a new
   * tensor [kvHeads·headDim, in], where kvHeads is what this strategy's `plan()` sets.
   */
  convertKv(w: Tensor, fromHeads: number, heads: number, headDim: number): Tensor;
}

/** A linear layer's weight in some storage format: y = x · Wᵀ with W [out, in]. */
export interface LinearWeight {
  /** Input width (`in`). */
  readonly inFeatures: number;
  /** Output width (`out`). */
  readonly outFeatures: number;
  /** Storage format name as reports print it (`FP32`, `INT8[group=64]`, …). */
  readonly format: string;
  /** Bytes held in the ledger (data + scales). */
  readonly bytes: number;
  /** x [..., in] → [..., out]; differentiable in x, and in the weight when it is trainable. */
  apply(x: Tensor): Tensor;
  /** Trainable tensors (empty for frozen or quantised weights). */
  parameters(): Tensor[];
  /** The weight as f32 [out, in] (a new tensor in `tmp`, the caller disposes it). */
  dequantize(): Tensor;
  /**
   * The f32 tensor [out, in] this layer multiplies by and trains in place (FP32), owned by the
   * layer (do not dispose it); null when the weight is stored packed or wrapped (use `dequantize()`).
   */
  f32Weight(): Tensor | null;
  /** Releases the weight's storage (and any adapter tensors it owns). */
  dispose(): void;
}

/** The `weights` slot's executable part: a storage format for linear layers. */
export interface WeightsExec {
  /** Pack an f32 weight [out, in] into this format under `category` (the caller keeps `w`). */
  pack(w: Tensor, category: string): LinearWeight;
}

/** The `adapters` slot's executable part (LoRA): wraps frozen layers with trainable low-rank adapters. */
export interface AdaptersExec {
  /** Linear layers to adapt, by role (`q`, `k`, `v`, `o`, `gate`, `up`, `down`). */
  readonly targets: readonly string[];
  /** Wrap a frozen base layer with trainable adapters (category `adapters`). */
  wrap(base: LinearWeight, role: string, rng: Rng): LinearWeight;
}

/** The `checkpoint` slot's executable part: which layers keep their activations. */
export interface CheckpointExec {
  /**
   * Groups of consecutive layers run under one `checkpoint()` each; `[]` keeps everything.
   * `layerActBytes`: activation bytes one layer saves; `layerInputBytes`: bytes of a layer input;
   * `reservedBytes`: activations held outside the layers (embedding, head) that a budget must leave
   * room for.
   */
  segments(
    layers: number,
    layerActBytes: number,
    layerInputBytes: number,
    reservedBytes?: number,
  ): readonly (readonly number[])[];
}

/** A feed-forward block made from a configuration. */
export interface FfnModule {
  /** x [..., dModel] → [..., dModel]. */
  forward(x: Tensor): Tensor;
  /** Trainable tensors of the block. */
  parameters(): Tensor[];
  /** Named weights for checkpoints (`gate`, `up`, `down`, `router`, `experts.3.up`, ...). */
  namedWeights(): Map<string, LinearWeight | Tensor>;
  /** Extra loss terms of the last forward (MoE load balancing), already weighted. */
  auxLoss?(): Tensor | null;
  /** Statistics of the last forward (tokens per expert, dropped tokens). */
  stats?(): Readonly<Record<string, number | readonly number[]>>;
  /** Releases the block's weights. */
  dispose(): void;
}

/**
 * What an FFN block is built from: widths, the weight format and adapters, and where its weights come from.
 */
export interface FfnSpec {
  /** Model width (input and output of the block). */
  readonly dModel: number;
  /** Hidden width (of each expert for MoE). */
  readonly hidden: number;
  /** The weight format its linear layers are packed in. */
  readonly weights: WeightsExec;
  /** Adapters to wrap its linear layers with, or `null`. */
  readonly adapters: AdaptersExec | null;
  /** Source of random initial weights (and of router noise, if any). */
  readonly rng: Rng;
  /** Ledger category for the weights; default `weights/ffn`. */
  readonly category: string;
  /**
   * Initial f32 weight for a named matrix (`gate`, `up`, `down`, `router`, `experts.3.up`, ...):
   * trained or converted weights. `null`/absent means random initialisation from `rng`.
   */
  readonly init?: ((name: string, shape: readonly [number, number]) => Tensor | null) | undefined;
}

/** The `ffn` slot's executable part: builds feed-forward blocks (dense SwiGLU or MoE). */
export interface FfnExec {
  /** A new block for `spec` (its weights charged to `spec.category`). */
  create(spec: FfnSpec): FfnModule;
}

/**
 * Storage for `count` K or V vectors of `dim` elements in some KV dtype, charged to the ledger.
 * Vectors are addressed by index; layout (contiguous or paged) is the cache's business.
 */
export interface KvStore {
  /** Number of vectors the store holds. */
  readonly count: number;
  /** Elements per vector. */
  readonly dim: number;
  /** Bytes held in the ledger (values + scales). */
  readonly bytes: number;
  /** Encode one vector from `src[srcOffset .. srcOffset + dim)`. */
  write(index: number, src: Float32Array, srcOffset: number): void;
  /** Decode one vector into `dst[dstOffset .. dstOffset + dim)`. */
  read(index: number, dst: Float32Array, dstOffset: number): void;
  /** The raw f32 elements when the dtype is f32 (zero-copy reads); undefined otherwise. */
  readonly f32: Float32Array | undefined;
  /** The ledger storage `f32` views (f32 stores), for tensors over it (`KvCache.view`); else undefined. */
  readonly storage?: Storage | undefined;
  /** Releases the store's bytes. */
  dispose(): void;
}

/** How K/V vectors are stored (the `kv-dtype` slot). */
export interface KvDtypeExec {
  /** Element type name (`fp32`, `fp16`, `int8`). */
  readonly dtype: string;
  /** Bytes per stored element. */
  readonly bytesPerElement: number;
  /** Scale bytes per (token, head) vector (int8 absmax: 4). */
  readonly scaleBytesPerVector: number;
  /** A new store for `count` vectors of `dim` elements, charged to `category`. */
  allocate(count: number, dim: number, category: string): KvStore;
}

/**
 * The shape of a KV cache: batch, layers, K/V heads and head size, the longest sequence, and the element
 * type.
 */
export interface KvCacheSpec {
  /** Sequences decoding together. */
  readonly batch: number;
  /** Decoder layers (one K and one V per layer). */
  readonly layers: number;
  /** K/V heads per layer. */
  readonly kvHeads: number;
  /** Elements per head. */
  readonly headDim: number;
  /** Positions each sequence may reach (what `Contiguous` reserves up front). */
  readonly maxSeq: number;
  /** How K/V elements are stored. */
  readonly dtype: KvDtypeExec;
  /**
   * Sliding-window attention span: keep only the last `window` positions per sequence (a rolling
   * buffer), so memory stops growing past it. Positions (`length`) stay absolute.
   */
  readonly window?: number | undefined;
}

/**
 * Per-layer K/V storage for a batch of sequences decoding in lockstep. With `spec.window` it is a
 * rolling buffer: `read` returns only the last `window` positions, so a caller appending T > 1
 * positions to a non-empty cache reads before appending (the chunk's first queries need older keys).
 */
export interface KvCache {
  /** The shape the cache was created for. */
  readonly spec: KvCacheSpec;
  /** Tokens cached so far (per sequence). */
  readonly length: number;
  /** Append new positions for `layer`: k, v [B, Hkv, Tnew, D] (f32). */
  append(layer: number, k: Tensor, v: Tensor): void;
  /**
   * Everything cached for `layer` as f32 [B, Hkv, T, D] (views, or a decoded `tmp` copy), appended
   * positions included; with a window, the last min(T, window) positions in order.
   */
  read(layer: number): { k: Tensor; v: Tensor };
  /**
   * `layer`'s K/V without a copy, when the cache holds them as one block per side: views of its
   * storage, f32 [B, Hkv, S, D] with S ≥ `keys`, the positions held (appended ones included); attend
   * with `AttendOptions.keys`. Undefined when they are not laid out so (then `read`). Dispose the views
   * after use. Optional.
   */
  view?(layer: number): { k: Tensor; v: Tensor; keys: number } | undefined;
  /** Mark `tokens` new positions as complete (after every layer appended them). */
  advance(tokens: number): void;
  /** Releases every layer's K/V storage. */
  dispose(): void;
}

/**
 * The `kv-memory` slot's executable part: where K/V entries live (contiguous reservation or paged blocks).
 */
export interface KvMemoryExec {
  /** A new cache for `spec` (charged to the ledger's `kv` category). */
  createCache(spec: KvCacheSpec): KvCache;
  /**
   * The per-sequence KV store a continuous-batching scheduler serves from, inside `spec.budgetBytes`
   * (contract in `sequence-cache.ts`). Optional: a kv-memory strategy without it cannot be served.
   */
  createSequenceCache?(spec: SequenceCacheSpec): SequenceCache;
}

/** The `backend` slot's executable part. */
export interface BackendExec {
  /** The kernels every tensor operation of a model built with this configuration runs on. */
  readonly backend: Backend;
}

/** Each slot's executable part, by slot name (`Strategy<S>.exec` is `SlotExec[S]`). */
export interface SlotExec {
  /** Kernels (`JS`, `WASM`). */
  backend: BackendExec;
  /** Attention (standard, flash). */
  attention: AttentionExec;
  /** K/V head layout (MHA, GQA, MQA). */
  heads: HeadsExec;
  /** Linear-layer weight format (FP32, INT8, NF4, …). */
  weights: WeightsExec;
  /** Trainable adapters (LoRA). */
  adapters: AdaptersExec;
  /** Activation checkpointing. */
  checkpoint: CheckpointExec;
  /** Feed-forward block (dense, MoE). */
  ffn: FfnExec;
  /** KV cache element type. */
  "kv-dtype": KvDtypeExec;
  /** KV cache memory layout (contiguous, paged). */
  "kv-memory": KvMemoryExec;
}
