/**
 * The starting plan for an architecture and workload: every slot's costs at its baseline (JS kernels,
 * standard attention, the architecture's own K/V heads and experts, a contiguous KV cache, no
 * checkpointing, and f32 weights — or, at `baseBytes: 2`, a published model's own fp16 weights).
 * Strategies' `plan()` functions then replace the costs of their slots.
 */
import { standardCost } from "@tradeoffs/attention";
import { noneCost } from "@tradeoffs/checkpoint";
import {
  type ArchSpec,
  jsCost,
  type Plan,
  type WeightsCost,
  type WorkloadSpec,
} from "@tradeoffs/core-tensor";
import { KV_DTYPES } from "@tradeoffs/kv-cache";

/** Options of `basePlan` (and of `estimate`): element sizes before any strategy. */
export interface PlanOptions {
  /** Bytes per element of activations and unquantised weights: 4 (f32, executable runs) or 2. */
  readonly baseBytes?: number;
  /** KV cache element type before strategies: `fp32` or `fp16`. */
  readonly kvDtype?: "fp32" | "fp16";
}

/**
 * A model's own weights at `baseBytes` per element, trained in place (f32, or fp16 under mixed
 * precision for published presets), multiplied straight from storage (no workspace).
 */
function ownWeights(baseBytes: number): WeightsCost {
  return Object.freeze({
    format: baseBytes === 2 ? "FP16" : "FP32",
    bitsPerWeight: baseBytes * 8,
    bytesFor: (out: number, inp: number) => baseBytes * out * inp,
    trainable: true,
    workspaceElements: () => 0,
  });
}

/**
 * The plan before any strategy: the architecture's own weights at `baseBytes`, the JS backend, standard
 * attention, a contiguous KV cache in `kvDtype` and no checkpointing. Strategies' `plan()` then replace
 * their slots' hooks.
 */
export function basePlan(arch: ArchSpec, workload: WorkloadSpec, options: PlanOptions = {}): Plan {
  const baseBytes = options.baseBytes ?? 4;
  const kv = KV_DTYPES[options.kvDtype ?? (baseBytes === 2 ? "fp16" : "fp32")];
  return {
    arch,
    workload,
    backend: jsCost,
    weights: ownWeights(baseBytes),
    baseBytes,
    adapters: null,
    attention: standardCost,
    kv: {
      dtype: kv.dtype,
      bytesPerElement: kv.bytesPerElement,
      scaleBytesPerVector: kv.scaleBytesPerVector,
      reservedTokens: (tokens: number) => tokens, // contiguous: reserve every token up front
      views: true,
    },
    checkpoint: noneCost,
    notes: [],
  };
}
