/**
 * Layout search: every valid (tp, pp, dp[, ZeRO stage]) for a device count, evaluated and ranked —
 * feasible layouts first, by estimated time — and the smallest device count with any layout that
 * fits. Tensor parallelism stays within one node (its all-reduces run every layer), as is usual.
 */

import { type EvalOptions, type Evaluation, evaluateLayout, layoutFootprint, withTime } from "./evaluate.js";
import type { DeviceSpec } from "./hardware.js";
import { type Layout, layoutProblems, type Offload, type PlanWorkload, type ZeroStage } from "./layout.js";
import type { PlanWorkloadSpec } from "./memory.js";
import type { ModelFacts } from "./model-facts.js";

/** Fixed parts of the layouts searched (undefined = searched over). */
export interface SearchFixed {
  readonly tp?: number | undefined;
  readonly pp?: number | undefined;
  readonly dp?: number | undefined;
  readonly zero?: ZeroStage | undefined;
  readonly offload?: Offload | undefined;
  /** Sequence parallelism when tp > 1 (default: on for training). */
  readonly sp?: boolean | undefined;
}

const divisors = (n: number): number[] =>
  Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

/** The valid layouts of `devices` devices for a model and workload. */
export function enumerateLayouts(
  f: ModelFacts,
  device: DeviceSpec,
  devices: number,
  workload: PlanWorkload,
  fixed: SearchFixed = {},
): Layout[] {
  const out: Layout[] = [];
  const maxTp = Math.max(1, Math.min(devices, device.gpusPerNode));
  for (const tp of fixed.tp !== undefined ? [fixed.tp] : divisors(devices).filter((d) => d <= maxTp)) {
    if (devices % tp !== 0) continue;
    for (const pp of fixed.pp !== undefined ? [fixed.pp] : divisors(devices / tp)) {
      const dp = fixed.dp ?? devices / (tp * pp);
      const offload = fixed.offload ?? "none";
      const zeros: ZeroStage[] =
        fixed.zero !== undefined
          ? [fixed.zero]
          : workload !== "train"
            ? [0]
            : offload === "optimizer+params"
              ? [3]
              : dp === 1
                ? [offload === "none" ? 0 : 1]
                : offload === "none"
                  ? [0, 1, 2, 3]
                  : [1, 2, 3];
      for (const zero of zeros) {
        const layout: Layout = {
          tp,
          pp,
          dp,
          zero,
          offload,
          sp: tp > 1 && (fixed.sp ?? workload === "train"),
        };
        if (layoutProblems(layout, f.arch, devices, workload).length === 0) out.push(layout);
      }
    }
  }
  return out;
}

/**
 * Evaluate and rank: layouts that fit first, by time (then memory); then those that do not, by
 * memory (then time), so the nearest miss leads when nothing fits.
 */
export function searchLayouts(
  f: ModelFacts,
  device: DeviceSpec,
  devices: number,
  w: PlanWorkloadSpec,
  o: EvalOptions,
  fixed: SearchFixed = {},
): Evaluation[] {
  const evals = enumerateLayouts(f, device, devices, w.kind, fixed).map((l) =>
    evaluateLayout(f, l, device, devices, w, o),
  );
  return evals.sort(byRank);
}

/** `searchLayouts`' order: fitting first, by time then memory; the rest by memory then time. */
function byRank(a: Evaluation, b: Evaluation): number {
  if (a.fits !== b.fits) return a.fits ? -1 : 1;
  const time = a.rankMs - b.rankMs;
  const memory = a.memory.total - b.memory.total;
  return a.fits ? time || memory : memory || time;
}

/** Device counts tried when looking for the smallest that fits: 1–8, then multiples of a node. */
function deviceCounts(device: DeviceSpec, max: number): number[] {
  const counts = new Set<number>();
  for (let n = 1; n <= Math.min(8, max); n++) counts.add(n);
  for (let n = device.gpusPerNode; n <= max; n += device.gpusPerNode) counts.add(n);
  for (let n = 16; n <= max; n *= 2) counts.add(n);
  return [...counts].sort((a, b) => a - b);
}

/**
 * The smallest device count (up to `max`) with a layout that fits, and its best layout; null when
 * none does. `fixed` must not pin tp, pp or dp (they depend on the count). The workload's `batch` is scaled by `batchPerDevice` for each count when given
 * (training keeps the per-device batch), else kept.
 */
export function smallestFit(
  f: ModelFacts,
  device: DeviceSpec,
  w: PlanWorkloadSpec,
  o: EvalOptions,
  fixed: SearchFixed = {},
  batchPerDevice?: number,
  max = 4096,
): Evaluation | null {
  for (const n of deviceCounts(device, max)) {
    const wn = batchPerDevice ? { ...w, batch: batchPerDevice * n } : w;
    // searchLayouts(…)[0] when it fits, but the time only of the layouts that fit: at the counts
    // below the answer none does, and their footprints alone say so
    const fitting = enumerateLayouts(f, device, n, wn.kind, fixed)
      .map((l) => ({ l, fp: layoutFootprint(f, l, device, n, wn, o) }))
      .filter(({ fp }) => fp.fits)
      .map(({ l, fp }) => withTime(f, l, device, wn, o, fp));
    if (fitting.length > 0) return fitting.sort(byRank)[0]!;
  }
  return null;
}
