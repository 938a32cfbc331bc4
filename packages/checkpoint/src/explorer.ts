/**
 * The schedule explorer: for a stack of layers and a list of checkpoint policies, the segments each
 * policy picks, its predicted peak `act` bytes and its extra forward FLOPs, as rows (plot data) and as
 * a text table. Predictions only; measured figures come from `bench/checkpoint.ts`.
 */
import { formatBytes, type Strategy, TradeoffsError } from "@tradeoffs/core-tensor";
import { predictPeakAct, recomputedLayers, recomputeFactor, type Segments } from "./memory-model.js";

/**
 * Input of the schedule explorer: the layer stack's sizes and the checkpoint policies to compare.
 */
export interface ExploreOptions {
  /** Layers in the stack. */
  readonly layers: number;
  /** Bytes one layer saves for backward without checkpointing. */
  readonly layerActBytes: number;
  /** Bytes of one layer input. */
  readonly layerInputBytes: number;
  /** Checkpoint policies to compare, one row each. */
  readonly policies: readonly Strategy<"checkpoint">[];
}

/**
 * One explorer row: a policy's segments, predicted peak activation bytes and recomputation cost.
 */
export interface ScheduleRow {
  /** The policy's label, e.g. `Ckpt[every=2]`. */
  readonly policy: string;
  /** Layers in the stack. */
  readonly layers: number;
  /** Predicted peak `act` bytes (NaN when the policy has no schedule, see `error`). */
  readonly peakActBytes: number;
  /** Peak relative to keeping everything (`None`). */
  readonly peakVsNone: number;
  /** Extra forward FLOPs as a fraction of one forward of the stack. */
  readonly extraForward: number;
  /** The segments the policy picks (empty for `None` or an infeasible budget). */
  readonly segments: Segments;
  /** Why there is no schedule (an infeasible budget), if so. */
  readonly error?: string;
}

/** One row per policy, in the order given. */
export function exploreSchedules(o: ExploreOptions): ScheduleRow[] {
  const none = predictPeakAct(o.layers, o.layerActBytes, o.layerInputBytes, []);
  return o.policies.map((s) => {
    let segments: Segments;
    try {
      segments = s.exec.segments(o.layers, o.layerActBytes, o.layerInputBytes);
    } catch (e) {
      if (!(e instanceof TradeoffsError)) throw e;
      return {
        policy: s.label,
        layers: o.layers,
        peakActBytes: Number.NaN,
        peakVsNone: Number.NaN,
        extraForward: Number.NaN,
        segments: [],
        error: e.message,
      };
    }
    const peak = predictPeakAct(o.layers, o.layerActBytes, o.layerInputBytes, segments);
    return {
      policy: s.label,
      layers: o.layers,
      peakActBytes: peak,
      peakVsNone: none > 0 ? peak / none : 1,
      extraForward: recomputeFactor(o.layers, segments),
      segments,
    };
  });
}

/** `4×[4] + 2 free`-style summary of a schedule of `layers` layers. */
export function describeSegments(layers: number, segments: Segments): string {
  if (segments.length === 0) return "none";
  const parts: string[] = [];
  let i = 0;
  while (i < segments.length) {
    const n = segments[i]!.length;
    let j = i;
    while (j < segments.length && segments[j]!.length === n) j++;
    parts.push(`${j - i}×${n}`);
    i = j;
  }
  const free = layers - recomputedLayers(segments);
  return `${parts.join(" + ")}${free > 0 ? ` + ${free} free` : ""}`;
}

/** A fixed-width text table of explorer rows. */
export function formatScheduleTable(rows: readonly ScheduleRow[]): string {
  const header = ["policy", "segments", "peak act", "vs None", "extra fwd"];
  const body = rows.map((r) =>
    r.error !== undefined
      ? [r.policy, "infeasible", "—", "—", "—"]
      : [
          r.policy,
          describeSegments(r.layers, r.segments),
          formatBytes(r.peakActBytes),
          `${r.peakVsNone.toFixed(3)}×`,
          `+${(r.extraForward * 100).toFixed(0)}%`,
        ],
  );
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === 0 || c === 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ");
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
  const notes = rows.filter((r) => r.error !== undefined).map((r) => `${r.policy}: ${r.error}`);
  return [...out, ...notes].join("\n");
}
