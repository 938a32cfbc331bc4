/**
 * One layout, evaluated: per-device memory (or DeepSpeed's model-state figures under its
 * convention), whether it fits with headroom, KV capacity for serving, and time. The search and the
 * full plan are built from this; it does no searching itself.
 */
import { type Category, ValueError } from "@tradeoffs/core-tensor";
import type { Recompute } from "./activations.js";
import { deepspeedZero2, deepspeedZero3, largestLayerParams } from "./deepspeed.js";
import type { DeviceSpec, Efficiency, Precision } from "./hardware.js";
import type { Layout } from "./layout.js";
import { type DeviceMemory, deviceMemory, type OverheadOptions, type PlanWorkloadSpec } from "./memory.js";
import type { ModelFacts } from "./model-facts.js";
import { type ServeCapacity, serveCapacity } from "./serving.js";
import { type PlanTime, planTime } from "./time.js";

/** How model states are counted: this project's convention, or DeepSpeed's estimators. */
export const CONVENTIONS = ["tradeoffs", "deepspeed"] as const;
/** One of `CONVENTIONS`. */
export type Convention = (typeof CONVENTIONS)[number];

/** The knobs that are not the layout. */
export interface EvalOptions {
  /** What backward recomputes (activations and recompute FLOPs). */
  readonly recompute: Recompute;
  /** Dropout masks count in activations. */
  readonly dropout: boolean;
  /** Matmul precision of the roofline's peak. */
  readonly precision: Precision;
  readonly efficiency?: Partial<Efficiency> | undefined;
  readonly overhead?: OverheadOptions | undefined;
  /** Fraction of device memory kept free: fits when total ≤ capacity × (1 − headroom). Default 0.05. */
  readonly headroom: number;
  /** vLLM's gpu_memory_utilization for serving. Default 0.9. */
  readonly utilization: number;
  /** How model states are counted. */
  readonly convention: Convention;
  /** DeepSpeed convention: model built under zero.Init (its default). */
  readonly zeroInit: boolean;
}

/** DeepSpeed's figures for the layout (`--convention deepspeed`). */
export interface DeepSpeedFigures {
  /** DeepSpeed's `gpu_mem`: bytes per GPU. */
  readonly gpuBytes: number;
  /** DeepSpeed's `cpu_mem`: bytes per node, with its buffer factor. */
  readonly cpuBytesPerNode: number;
  /** The largest single module's parameters (ZeRO-3 gathers it). */
  readonly largestLayerParams: number;
  /** GPUs per node the formula was given. */
  readonly gpusPerNode: number;
  /** Nodes the formula was given. */
  readonly nodes: number;
  /** The DeepSpeed function reproduced. */
  readonly formula: "estimate_zero2_model_states_mem_needs" | "estimate_zero3_model_states_mem_needs";
}

export interface Evaluation {
  readonly layout: Layout;
  readonly memory: DeviceMemory;
  readonly capacity: number;
  readonly usable: number;
  readonly fits: boolean;
  readonly serve: ServeCapacity | null;
  readonly time: PlanTime;
  readonly deepspeed: DeepSpeedFigures | null;
  /** The figure candidates are ranked by (ms; smaller is better). */
  readonly rankMs: number;
}

/** DeepSpeed's model-state figures for a data-parallel-only layout, split so the categories sum to gpu_mem exactly. */
function deepspeedMemory(
  f: ModelFacts,
  layout: Layout,
  device: DeviceSpec,
  devices: number,
  o: EvalOptions,
): { memory: DeviceMemory; figures: DeepSpeedFigures } {
  const problems: string[] = [];
  if (layout.tp !== 1 || layout.pp !== 1)
    problems.push("--convention deepspeed covers data parallelism only (tp = pp = 1)");
  if (layout.zero === 0)
    problems.push(
      "--convention deepspeed needs --zero 1, 2 or 3 (DeepSpeed publishes ZeRO-2 and ZeRO-3 estimators)",
    );
  const gpusPerNode = Math.min(devices, device.gpusPerNode);
  if (devices % gpusPerNode !== 0)
    problems.push(`--gpus ${devices} is not a whole number of ${device.gpusPerNode}-GPU nodes`);
  if (problems.length > 0) throw new ValueError(problems.join("; "), { convention: "deepspeed" });
  const input = {
    totalParams: f.params.total,
    largestLayerParams: largestLayerParams(f.arch),
    gpusPerNode,
    nodes: devices / gpusPerNode,
    offloadOptimizer: layout.offload !== "none",
    offloadParams: layout.offload === "optimizer+params",
    zeroInit: o.zeroInit,
  };
  const z3 = layout.zero === 3;
  const ds = z3 ? deepspeedZero3(input) : deepspeedZero2(input);
  const P = f.params.total;
  const bytes: Record<Category, number> = {
    weights: 0,
    adapters: 0,
    kv: 0,
    act: 0,
    grad: 0,
    optim: 0,
    tmp: 0,
  };
  if (!z3) {
    bytes.weights = 2 * P; // fp16 parameters
    if (!input.offloadOptimizer) {
      bytes.grad = 2 * P; // fp16 gradients
      bytes.optim = ds.gpuBytes - 4 * P; // ⌊16Ψ/n⌋: fp32 params, grads, momentum, variance
    }
  } else {
    bytes.tmp = ds.largestLayerBytes; // the gathered layer: fp16 params + grads
    const rest = ds.gpuBytes - ds.largestLayerBytes;
    if (input.offloadOptimizer)
      bytes.weights = rest; // ⌊2Ψ/n⌋ fp16 parameter shard
    else bytes.optim = rest; // ⌊18Ψ/n⌋ all states, sharded
  }
  const memory: DeviceMemory = {
    stage: 0,
    layers: f.arch.layers,
    bytes,
    overhead: { context: 0, fragmentation: 0, commBuffers: 0 },
    total: ds.gpuBytes,
    cpuBytes: ds.cpuBytes / gpusPerNode,
  };
  return {
    memory,
    figures: {
      gpuBytes: ds.gpuBytes,
      cpuBytesPerNode: ds.cpuBytes,
      largestLayerParams: input.largestLayerParams,
      gpusPerNode,
      nodes: input.nodes,
      formula: z3 ? "estimate_zero3_model_states_mem_needs" : "estimate_zero2_model_states_mem_needs",
    },
  };
}

/** The memory side of an evaluation: all that decides whether a layout fits, without its time. */
export type Footprint = Pick<Evaluation, "memory" | "capacity" | "usable" | "fits" | "serve" | "deepspeed">;

/**
 * Per-device memory of one (already validated) layout and whether it fits: `evaluateLayout` without
 * the time, for searches that only ask "does it fit" (the smallest device count, the largest batch).
 */
export function layoutFootprint(
  f: ModelFacts,
  layout: Layout,
  device: DeviceSpec,
  devices: number,
  w: PlanWorkloadSpec,
  o: EvalOptions,
): Footprint {
  const capacity = device.memoryBytes;
  const usable = capacity * (1 - o.headroom);
  let memory: DeviceMemory;
  let deepspeed: DeepSpeedFigures | null = null;
  if (o.convention === "deepspeed") {
    const d = deepspeedMemory(f, layout, device, devices, o);
    memory = d.memory;
    deepspeed = d.figures;
  } else memory = deviceMemory(f, layout, device, w, o);
  let serve: ServeCapacity | null = null;
  let fits = memory.total <= usable;
  if (w.kind === "serve") {
    const context = w.seq + w.generate;
    serve = serveCapacity(f, layout, device, context, { utilization: o.utilization, overhead: o.overhead });
    // vLLM preallocates every block it can: the device then holds weights, the pool, the profiled
    // activation peak and the non-torch memory; it starts when one sequence of `context` fits.
    const bytes = {
      ...memory.bytes,
      kv: serve.blocks * serve.blockSize * serve.kvBytesPerToken,
      tmp: serve.peakActivationBytes,
    };
    const tensors = Object.values(bytes).reduce((s, v) => s + v, 0);
    memory = {
      ...memory,
      bytes,
      overhead: { context: serve.nonTorchBytes, fragmentation: 0, commBuffers: 0 },
      total: tensors + serve.nonTorchBytes,
    };
    fits = serve.blocks >= Math.ceil(context / serve.blockSize);
  }
  return { memory, capacity, usable, fits, serve, deepspeed };
}

/** Evaluate one (already validated) layout: its footprint (`layoutFootprint`), then its time. */
export function evaluateLayout(
  f: ModelFacts,
  layout: Layout,
  device: DeviceSpec,
  devices: number,
  w: PlanWorkloadSpec,
  o: EvalOptions,
): Evaluation {
  return withTime(f, layout, device, w, o, layoutFootprint(f, layout, device, devices, w, o));
}

/** A layout's evaluation from its footprint: the roofline time, and the figure it is ranked by. */
export function withTime(
  f: ModelFacts,
  layout: Layout,
  device: DeviceSpec,
  w: PlanWorkloadSpec,
  o: EvalOptions,
  footprint: Footprint,
): Evaluation {
  const time = planTime(f, layout, device, w, {
    precision: o.precision,
    recompute: o.recompute,
    efficiency: o.efficiency,
  });
  const rankMs =
    w.kind === "train"
      ? time.trainStepMs
      : w.kind === "infer"
        ? time.prefillMs + w.generate * time.decodeMsPerToken
        : time.decodeMsPerToken;
  return { layout, ...footprint, time, rankMs };
}
