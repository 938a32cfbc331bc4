/**
 * vLLM-style KV-cache capacity: what is left of device memory × gpu_memory_utilization after the
 * weights, the peak activation of a profiling forward pass and the memory outside PyTorch, divided
 * into KV blocks (vLLM's Worker.determine_num_available_blocks; its memory-profiling log lines
 * "model weights take …; non_torch_memory …; PyTorch activation peak memory …; the rest of the memory
 * reserved for KV Cache", vllm-project/vllm#10511). Not a scheduler: serve.ts simulates one.
 */
import type { DeviceSpec } from "./hardware.js";
import { type Layout, stageLayers } from "./layout.js";
import { DEFAULT_COMM_BUFFER_BYTES, kvBytesPerToken, type OverheadOptions } from "./memory.js";
import { deviceWeights, type ModelFacts } from "./model-facts.js";

/** vLLM's defaults: gpu_memory_utilization 0.9 and 16-token KV blocks. */
export const VLLM_UTILIZATION = 0.9;
export const VLLM_BLOCK = 16;

/** What vLLM's KV sizing subtracts from device memory, per device. */
export interface KvCapacityInput {
  /** Device memory, bytes. */
  readonly capacityBytes: number;
  /** vLLM's gpu_memory_utilization. */
  readonly utilization: number;
  /** Weights (and adapters) on the device. */
  readonly weightsBytes: number;
  /** Peak activation of the profiling forward pass. */
  readonly peakActivationBytes: number;
  /** Memory outside PyTorch's allocator (context, NCCL buffers). */
  readonly nonTorchBytes: number;
  /** KV bytes one token takes on this device (all its layers, its KV heads, K and V). */
  readonly kvBytesPerToken: number;
  /** Tokens per KV block. */
  readonly blockSize: number;
}

/** KV memory, blocks and tokens left on a device. */
export interface KvCapacity {
  /** Bytes left for the KV cache (negative when the rest does not fit). */
  readonly availableBytes: number;
  /** Whole KV blocks that fit. */
  readonly blocks: number;
  /** KV tokens: blocks × block size. */
  readonly tokens: number;
}

/** available = capacity × utilisation − weights − peak activation − non-torch; blocks = ⌊available / (block × bytes per token)⌋. */
export function kvCapacity(i: KvCapacityInput): KvCapacity {
  const availableBytes =
    i.capacityBytes * i.utilization - i.weightsBytes - i.peakActivationBytes - i.nonTorchBytes;
  const blocks = availableBytes > 0 ? Math.floor(availableBytes / (i.blockSize * i.kvBytesPerToken)) : 0;
  return { availableBytes, blocks, tokens: blocks * i.blockSize };
}

/** Sequences of `context` tokens the blocks hold at once: ⌊blocks / ⌈context / block⌉⌋. */
export function maxConcurrentSequences(blocks: number, blockSize: number, context: number): number {
  return Math.floor(blocks / Math.ceil(context / blockSize));
}

export interface ServeCapacity extends KvCapacity {
  /** Pipeline stage that limits the capacity. */
  readonly stage: number;
  readonly blockSize: number;
  readonly kvBytesPerToken: number;
  readonly peakActivationBytes: number;
  readonly nonTorchBytes: number;
  /** Across all data-parallel replicas, at the workload's context (prompt + generate). */
  readonly maxConcurrentSequences: number;
}

export interface ServeOptions {
  readonly utilization?: number;
  readonly blockSize?: number;
  readonly overhead?: OverheadOptions | undefined;
}

/**
 * KV capacity of one replica of a layout (the smallest over its pipeline stages), and the
 * concurrent sequences of `context` tokens all dp replicas hold. The activation peak is the
 * estimator's inference working set for one sequence of `context` tokens (vLLM profiles a forward
 * of max_num_batched_tokens, max_model_len by default), split over tp.
 */
export function serveCapacity(
  f: ModelFacts,
  layout: Layout,
  device: DeviceSpec,
  context: number,
  o: ServeOptions = {},
): ServeCapacity {
  const blockSize = o.blockSize ?? f.pagedBlock ?? VLLM_BLOCK;
  const groups = [layout.tp, layout.pp, layout.dp].filter((n) => n > 1).length;
  const nonTorchBytes =
    (o.overhead?.contextBytes ?? device.contextBytes) +
    groups * (o.overhead?.commBufferBytes ?? DEFAULT_COMM_BUFFER_BYTES);
  const peakActivationBytes =
    f.estimateFor({ kind: "infer", batch: 1, seq: context, generate: 0 }).bytes.tmp / layout.tp;
  const stages = stageLayers(f.arch.layers, layout.pp).map((layers, i) => {
    const dw = deviceWeights(f, layout.tp, layers, i === 0, i === layout.pp - 1);
    const perToken = kvBytesPerToken(f, layout.tp, layers);
    const cap = kvCapacity({
      capacityBytes: device.memoryBytes,
      utilization: o.utilization ?? VLLM_UTILIZATION,
      weightsBytes: dw.bytes + (f.adapters * layers) / f.arch.layers / layout.tp,
      peakActivationBytes,
      nonTorchBytes,
      kvBytesPerToken: perToken,
      blockSize,
    });
    return { ...cap, stage: i, kvBytesPerToken: perToken };
  });
  const worst = stages.reduce((a, b) => (b.tokens < a.tokens ? b : a));
  return {
    ...worst,
    blockSize,
    peakActivationBytes,
    nonTorchBytes,
    maxConcurrentSequences: layout.dp * maxConcurrentSequences(worst.blocks, blockSize, context),
  };
}
