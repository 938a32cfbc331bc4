/**
 * The starting plan for an architecture and workload: every knob at its baseline (f32 weights,
 * standard attention, the architecture's own K/V heads and experts, contiguous f32 KV cache, no
 * checkpointing). Strategies' `plan()` functions then set their knobs.
 */
import type { ArchSpec, Plan, WorkloadSpec } from "@tradeoffs/core-tensor";

export interface PlanOptions {
  /** Bytes per element of activations and unquantised weights: 4 (f32, executable runs) or 2. */
  readonly baseBytes?: number;
  /** KV cache element type before strategies: `fp32` or `fp16`. */
  readonly kvDtype?: "fp32" | "fp16";
  readonly backend?: string;
}

export function basePlan(arch: ArchSpec, workload: WorkloadSpec, options: PlanOptions = {}): Plan {
  const baseBytes = options.baseBytes ?? 4;
  const kv16 = (options.kvDtype ?? (baseBytes === 2 ? "fp16" : "fp32")) === "fp16";
  return {
    arch,
    workload,
    backend: options.backend ?? "JS",
    weights: { format: baseBytes === 2 ? "FP16" : "FP32", bitsPerWeight: baseBytes * 8, trainable: true },
    baseBytes,
    adapters: null,
    attention: { kind: "standard", blockQ: 0, blockK: 0 },
    kv: {
      dtype: kv16 ? "fp16" : "fp32",
      bytesPerElement: kv16 ? 2 : 4,
      scaleBytesPerVector: 0,
      memory: "contiguous",
      block: 0,
    },
    checkpoint: { kind: "none", every: 1, budgetBytes: 0, segments: undefined },
    notes: [],
  };
}
