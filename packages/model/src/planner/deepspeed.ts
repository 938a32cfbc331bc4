/**
 * DeepSpeed's published model-state memory estimators, reproduced so users can check the planner
 * against a tool they trust: `estimate_zero2_model_states_mem_needs` (deepspeed/runtime/zero/
 * stage_1_and_2.py) and `estimate_zero3_model_states_mem_needs` (deepspeed/runtime/zero/stage3.py),
 * as documented in DeepSpeed's docs/code-docs/source/memory.rst. Model states only (fp16 params and
 * grads, fp32 master params, grads and Adam moments), no activations, with DeepSpeed's
 * `additional_buffer_factor` on CPU memory. Formulas restated from those sources, not copied.
 */
import type { ArchSpec } from "@tradeoffs/core-tensor";

/** Inputs of DeepSpeed's estimators, named as there. */
export interface DeepSpeedInput {
  /** Parameters in all (DeepSpeed's `total_params`). */
  readonly totalParams: number;
  /** Parameters of the largest single module (ZeRO-3 gathers one at a time). */
  readonly largestLayerParams: number;
  /** DeepSpeed's `num_gpus_per_node`. */
  readonly gpusPerNode: number;
  /** DeepSpeed's `num_nodes`. */
  readonly nodes: number;
  /** `offload_optimizer: cpu`. */
  readonly offloadOptimizer: boolean;
  /** `offload_param: cpu` (ZeRO-3 only). */
  readonly offloadParams: boolean;
  /** Model built under `zero.Init` (ZeRO-3 only); DeepSpeed's default true. */
  readonly zeroInit?: boolean;
  /** DeepSpeed's default 1.5. */
  readonly bufferFactor?: number;
}

/** What DeepSpeed's estimators return. */
export interface DeepSpeedEstimate {
  /** Per GPU, bytes (DeepSpeed's `gpu_mem`). */
  readonly gpuBytes: number;
  /** Per node, bytes (DeepSpeed's `cpu_mem`). */
  readonly cpuBytes: number;
  /** ZeRO-3: 4 bytes × largest layer params (fp16 params gathered + fp16 grads); 0 for ZeRO-2. */
  readonly largestLayerBytes: number;
}

/**
 * ZeRO-2 (also used for ZeRO-1 by DeepSpeed's docs). GPU: with optimizer offload 2Ψ (fp16 params),
 * else 4Ψ + ⌊16Ψ / total GPUs⌋. CPU: with offload Ψ·max(4·total GPUs, 16)·factor, else
 * Ψ·4·GPUs per node·factor (fp32 model built on CPU before it moves).
 */
export function deepspeedZero2(i: DeepSpeedInput): DeepSpeedEstimate {
  const n = i.gpusPerNode * i.nodes;
  const f = i.bufferFactor ?? 1.5;
  const P = i.totalParams;
  const gpu = i.offloadOptimizer ? 2 * P : 4 * P + Math.floor((16 * P) / n);
  const cpu = i.offloadOptimizer ? P * Math.max(4 * n, 16) * f : P * 4 * i.gpusPerNode * f;
  return { gpuBytes: Math.floor(gpu), cpuBytes: Math.floor(cpu), largestLayerBytes: 0 };
}

/**
 * ZeRO-3. largest = 4 × largest layer params. GPU: both offloaded → largest; optimizer only →
 * largest + ⌊2Ψ / total⌋; none → largest + ⌊18Ψ / total⌋. CPU (g = 1 / nodes): both offloaded →
 * Ψ·18g·factor (zero.Init) or Ψ·max(4·GPUs per node, 18g)·factor; optimizer only → the same with 16;
 * none → largest layer params·4·GPUs per node·factor (zero.Init) or Ψ·4·GPUs per node·factor.
 */
export function deepspeedZero3(i: DeepSpeedInput): DeepSpeedEstimate {
  const n = i.gpusPerNode * i.nodes;
  const f = i.bufferFactor ?? 1.5;
  const g = 1 / i.nodes;
  const P = i.totalParams;
  const init = i.zeroInit ?? true;
  const largest = 4 * i.largestLayerParams;
  let gpu: number;
  let cpu: number;
  if (i.offloadOptimizer && i.offloadParams) {
    gpu = largest;
    cpu = P * (init ? 18 * g : Math.max(4 * i.gpusPerNode, 18 * g)) * f;
  } else if (i.offloadOptimizer) {
    gpu = largest + Math.floor((2 * P) / n);
    cpu = P * (init ? 16 * g : Math.max(4 * i.gpusPerNode, 16 * g)) * f;
  } else {
    gpu = largest + Math.floor((18 * P) / n);
    cpu = (init ? i.largestLayerParams : P) * 4 * i.gpusPerNode * f;
  }
  return { gpuBytes: Math.floor(gpu), cpuBytes: Math.floor(cpu), largestLayerBytes: largest };
}

/**
 * The largest single module's own parameters, as DeepSpeed's `model_to_params` counts them
 * (`m.parameters(recurse=False)`): the embedding or head (V·d), or one linear layer (out·in + bias);
 * each expert's linears are separate modules.
 */
export function largestLayerParams(arch: ArchSpec): number {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: D, ffnHidden: F, vocab: V } = arch;
  const b = arch.biases ? 1 : 0;
  return Math.max(V * d, H * D * (d + b), Hkv * D * (d + b), d * (H * D + b), F * (d + b), d * (F + b));
}
