/**
 * Parallel layouts: tensor (tp), pipeline (pp) and data (dp) parallel degrees, ZeRO stage, offload
 * and sequence parallelism, with the rules a layout must satisfy for a model, and the per-device
 * shapes that follow from it (KV heads per device, layers per stage). No bytes or time here.
 */
import { type ArchSpec, ValueError } from "@tradeoffs/core-tensor";

/** ZeRO stages: 0 none, 1 optimizer states, 2 also gradients, 3 also parameters. */
export const ZERO_STAGES = [0, 1, 2, 3] as const;
/** One of `ZERO_STAGES`. */
export type ZeroStage = (typeof ZERO_STAGES)[number];
/** What ZeRO-Offload moves to host memory. */
export const OFFLOADS = ["none", "optimizer", "optimizer+params"] as const;
/** One of `OFFLOADS`. */
export type Offload = (typeof OFFLOADS)[number];
/** Workloads the planner sizes. */
export const PLAN_WORKLOADS = ["infer", "train", "serve"] as const;
/** One of `PLAN_WORKLOADS`. */
export type PlanWorkload = (typeof PLAN_WORKLOADS)[number];

/** A parallel layout: tp × pp × dp devices, ZeRO stage, offload, sequence parallelism. */
export interface Layout {
  /** Tensor parallel: heads and FFN columns/rows split over tp devices (Megatron-LM). */
  readonly tp: number;
  /** Pipeline parallel: consecutive layers split into pp stages. */
  readonly pp: number;
  /** Data parallel replicas (ZeRO/FSDP shards training state over them). */
  readonly dp: number;
  /** ZeRO stage: 1 shards optimizer states, 2 also gradients, 3 also parameters (FSDP full shard). */
  readonly zero: ZeroStage;
  /** CPU offload of optimizer states (and parameters, with ZeRO-3). */
  readonly offload: Offload;
  /** Sequence parallelism (Korthikanti et al. 2022): norms and dropouts split over tp along the sequence. */
  readonly sp: boolean;
}

/** Every problem with a layout for `devices` devices of a model, for a workload (empty = valid). */
export function layoutProblems(
  layout: Layout,
  arch: ArchSpec,
  devices: number,
  workload: PlanWorkload,
): string[] {
  const p: string[] = [];
  const { tp, pp, dp } = layout;
  for (const [k, v] of [
    ["tp", tp],
    ["pp", pp],
    ["dp", dp],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 1)) p.push(`--${k} ${v}: must be a positive integer`);
  }
  if (p.length > 0) return p;
  if (tp * pp * dp !== devices)
    p.push(`layout tp=${tp} × pp=${pp} × dp=${dp} = ${tp * pp * dp} devices, but --gpus is ${devices}`);
  if (arch.heads % tp !== 0)
    p.push(
      `--tp ${tp} does not divide ${arch.name}'s ${arch.heads} attention heads; use a divisor of ${arch.heads}`,
    );
  // vLLM splits KV heads when kvHeads ≥ tp (needs kvHeads % tp = 0) and replicates each KV head on
  // tp / kvHeads devices when kvHeads < tp (needs tp % kvHeads = 0).
  if (arch.kvHeads >= tp ? arch.kvHeads % tp !== 0 : tp % arch.kvHeads !== 0)
    p.push(`--tp ${tp} and ${arch.kvHeads} KV heads: one must divide the other`);
  if (arch.ffnHidden % tp !== 0) p.push(`--tp ${tp} does not divide the FFN width ${arch.ffnHidden}`);
  if (pp > arch.layers) p.push(`--pp ${pp} exceeds ${arch.name}'s ${arch.layers} layers`);
  if (!ZERO_STAGES.includes(layout.zero)) p.push(`--zero ${layout.zero}: choose 0, 1, 2 or 3`);
  if (!OFFLOADS.includes(layout.offload))
    p.push(`--offload ${layout.offload}: choose ${OFFLOADS.join(", ")}`);
  if (workload !== "train" && layout.zero !== 0)
    p.push(`--zero ${layout.zero} shards training state; ${workload} takes --zero 0`);
  if (workload !== "train" && layout.offload !== "none")
    p.push(`--offload ${layout.offload} moves training state; ${workload} takes --offload none`);
  if (layout.offload === "optimizer+params" && layout.zero !== 3)
    p.push("--offload optimizer+params needs --zero 3 (parameters are offloaded only when sharded)");
  if (layout.offload === "optimizer" && layout.zero === 0)
    p.push("--offload optimizer needs --zero 1, 2 or 3 (ZeRO-Offload offloads the sharded optimizer)");
  if (layout.sp && tp === 1) p.push("sequence parallelism needs --tp > 1");
  return p;
}

/** Throw one `ValueError` listing every problem with the layout. */
export function checkLayout(layout: Layout, arch: ArchSpec, devices: number, workload: PlanWorkload): void {
  const p = layoutProblems(layout, arch, devices, workload);
  if (p.length > 0) throw new ValueError(p.join("; "), { layout, devices });
}

/**
 * KV heads each device stores: kvHeads / tp when kvHeads ≥ tp, else 1 (each KV head replicated on
 * tp / kvHeads devices), as vLLM's `get_num_kv_heads` does.
 */
export function kvHeadsPerDevice(kvHeads: number, tp: number): number {
  return Math.max(1, Math.floor(kvHeads / tp));
}

/**
 * Layers of each pipeline stage: L / pp each, the first L mod pp stages one more (the first stage
 * also holds the embedding and the last the head, so extra layers go first only when uneven).
 */
export function stageLayers(layers: number, pp: number): number[] {
  const base = Math.floor(layers / pp);
  const extra = layers % pp;
  return Array.from({ length: pp }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Micro-batches in flight on pipeline stage `stage` (0-based) under the 1F1B schedule with `m`
 * micro-batches per step: stage i holds the activations of min(m, pp − i) micro-batches
 * (Narayanan et al. 2021; Korthikanti et al. 2022 §4.2.3: the first stage holds pp).
 */
export function inFlight(stage: number, pp: number, m: number): number {
  return Math.max(1, Math.min(m, pp - stage));
}
