/**
 * Bytes per device per ledger category under a parallel layout, plus a named framework overhead
 * and the host memory offload uses. Weights, adapters, gradients and optimizer states are the
 * estimator's whole-model figures cut by the layout (tp, pp, ZeRO over dp); activations follow
 * Korthikanti et al. (activations.ts); the KV cache follows vLLM's KV-head split. No time here.
 */
import { CATEGORIES, type Category } from "@tradeoffs/core-tensor";
import { cachedTokens, kvCacheHeads, kvGroups } from "../kv-layout.js";
import { type Recompute, stageActivationBytes } from "./activations.js";
import type { DeviceSpec } from "./hardware.js";
import { inFlight, kvHeadsPerDevice, type Layout, type PlanWorkload, stageLayers } from "./layout.js";
import { deviceWeights, type ModelFacts } from "./model-facts.js";

/** What runs, in the planner's terms. */
export interface PlanWorkloadSpec {
  /** `infer`, `train` or `serve`. */
  readonly kind: PlanWorkload;
  /** Sequences: the global batch per step (train), or sequences decoded together (infer, serve). */
  readonly batch: number;
  /** Prompt length (infer, serve) or sequence length (train). */
  readonly seq: number;
  /** Tokens generated after the prompt (infer, serve). */
  readonly generate: number;
  /** Sequences per micro-batch on one data-parallel replica (train). */
  readonly microBatch: number;
}

/**
 * Framework memory beyond tensors. Defaults (assumptions, settable): the device's runtime context
 * (`DeviceSpec.contextBytes`, 512 MiB for CUDA: context plus cuBLAS/cuDNN workspaces); allocator
 * fragmentation 5% of tensor bytes (PyTorch's caching allocator keeps reserved-but-unallocated
 * blocks); 256 MiB of communication buffers per process group wider than one device (NCCL's 4 MiB
 * NCCL_BUFFSIZE × up to 32 channels × send and receive).
 */
export interface OverheadOptions {
  /** Runtime context per device (default: the device preset's). */
  readonly contextBytes?: number;
  /** Allocator fragmentation as a fraction of tensor bytes (default 0.05). */
  readonly fragmentation?: number;
  /** Communication buffers per process group wider than one device (default 256 MiB). */
  readonly commBufferBytes?: number;
}

export const DEFAULT_FRAGMENTATION = 0.05;
export const DEFAULT_COMM_BUFFER_BYTES = 256 * 2 ** 20;

export interface Overhead {
  /** Runtime context. */
  readonly context: number;
  /** Allocator fragmentation. */
  readonly fragmentation: number;
  /** Communication buffers. */
  readonly commBuffers: number;
}

export interface MemoryOptions {
  /** What backward recomputes. */
  readonly recompute: Recompute;
  /** Dropout masks count in activations. */
  readonly dropout: boolean;
  readonly overhead?: OverheadOptions | undefined;
}

export interface DeviceMemory {
  /** Pipeline stage of the device reported (the one needing the most memory). */
  readonly stage: number;
  readonly layers: number;
  /** Bytes per ledger category on that device. */
  readonly bytes: Readonly<Record<Category, number>>;
  readonly overhead: Overhead;
  /** Σ categories + Σ overhead. */
  readonly total: number;
  /** Host bytes this device's rank holds (offloaded optimizer states, fp32 grads, parameters). */
  readonly cpuBytes: number;
}

/** Sequences each data-parallel replica runs and micro-batches per step. */
export function replicaShape(w: PlanWorkloadSpec, dp: number): { seqs: number; microBatches: number } {
  const seqs = Math.ceil(w.batch / dp);
  return { seqs, microBatches: Math.max(1, Math.ceil(seqs / w.microBatch)) };
}

/** KV tokens one sequence reserves for `tokens` tokens (paged: whole blocks). */
export function reservedTokens(f: ModelFacts, tokens: number): number {
  return f.pagedBlock ? Math.ceil(tokens / f.pagedBlock) * f.pagedBlock : tokens;
}

/**
 * Tokens one layer holds on average after `tokens` tokens of a sequence: a windowed layer keeps a
 * rolling buffer of its window (Mistral: every layer; Gemma 2: half of them), with `reserve`
 * applied per layer group (paged: whole blocks).
 */
export function kvTokensPerLayer(
  f: ModelFacts,
  tokens: number,
  reserve: (t: number) => number = (t) => reservedTokens(f, t),
): number {
  const groups = kvGroups(f.arch);
  return groups.reduce((s, g) => s + g.layers * reserve(cachedTokens(g, tokens)), 0) / f.arch.layers;
}

/** KV bytes per token on one device of a stage with `layers` layers. */
export function kvBytesPerToken(f: ModelFacts, tp: number, layers: number): number {
  return layers * kvHeadsPerDevice(kvCacheHeads(f.arch), tp) * f.kvBytesPerTokenHead;
}

/** Memory of one device of pipeline stage `stage`. */
export function stageMemory(
  f: ModelFacts,
  layout: Layout,
  device: DeviceSpec,
  w: PlanWorkloadSpec,
  o: MemoryOptions,
  stage: number,
): DeviceMemory {
  const { tp, pp, dp, zero, offload } = layout;
  const L = f.arch.layers;
  const layers = stageLayers(L, pp)[stage] ?? 0;
  const first = stage === 0;
  const last = stage === pp - 1;
  const dw = deviceWeights(f, tp, layers, first, last);
  const { seqs, microBatches } = replicaShape(w, dp);
  const layerShare = layers / L / tp;
  const bytes: Record<Category, number> = {
    weights: 0,
    adapters: 0,
    kv: 0,
    act: 0,
    grad: 0,
    optim: 0,
    tmp: 0,
  };
  let cpu = 0;
  bytes.adapters = f.adapters * layerShare;

  if (w.kind === "train") {
    const share = f.params.adapters > 0 ? layerShare : dw.params / f.params.total;
    // Unified memory (Apple): host and device are one pool, so offload moves nothing.
    const off = device.unified ? "none" : offload;
    const weights = zero === 3 ? dw.bytes / dp : dw.bytes;
    if (off === "optimizer+params") cpu += weights;
    else bytes.weights = weights;
    bytes.grad = (f.grad * share) / (zero >= 2 ? dp : 1);
    const optim = (f.optim * share) / (zero >= 1 ? dp : 1);
    // ZeRO-Offload: fp32 master weights, Adam moments and an fp32 copy of the gradients on the host.
    if (off === "none") bytes.optim = optim;
    else cpu += optim + bytes.grad * (4 / f.baseBytes);
    bytes.act = stageActivationBytes(
      f.arch,
      {
        seq: w.seq,
        microBatch: w.microBatch,
        tp,
        sp: layout.sp,
        recompute: o.recompute,
        flash: f.flash,
        dropout: o.dropout,
      },
      layers,
      inFlight(stage, pp, microBatches),
      first,
      last,
    );
    const tmp = f.estimateFor({ kind: "train", batch: w.microBatch, seq: w.seq, generate: 0 }).bytes.tmp / tp;
    // ZeRO-3 gathers a layer's full parameters (and prefetches the next) while it runs.
    bytes.tmp = tmp + (zero === 3 ? 2 * dw.layerBytes : 0);
  } else {
    bytes.weights = dw.bytes;
    const tokens = kvTokensPerLayer(f, w.seq + w.generate);
    bytes.kv = seqs * tokens * kvBytesPerToken(f, tp, layers);
    bytes.tmp =
      f.estimateFor({ kind: "infer", batch: seqs, seq: w.seq, generate: w.generate }).bytes.tmp / tp;
  }

  const tensors = CATEGORIES.reduce((s, c) => s + bytes[c], 0);
  const groups = [tp, pp, dp].filter((n) => n > 1).length;
  const overhead: Overhead = {
    context: o.overhead?.contextBytes ?? device.contextBytes,
    fragmentation: tensors * (o.overhead?.fragmentation ?? DEFAULT_FRAGMENTATION),
    commBuffers: groups * (o.overhead?.commBufferBytes ?? DEFAULT_COMM_BUFFER_BYTES),
  };
  const total = tensors + overhead.context + overhead.fragmentation + overhead.commBuffers;
  return { stage, layers, bytes, overhead, total, cpuBytes: cpu };
}

/** The device that needs the most memory: the first or the last pipeline stage. */
export function deviceMemory(
  f: ModelFacts,
  layout: Layout,
  device: DeviceSpec,
  w: PlanWorkloadSpec,
  o: MemoryOptions,
): DeviceMemory {
  const firstStage = stageMemory(f, layout, device, w, o, 0);
  if (layout.pp === 1) return firstStage;
  const lastStage = stageMemory(f, layout, device, w, o, layout.pp - 1);
  return lastStage.total > firstStage.total ? lastStage : firstStage;
}
