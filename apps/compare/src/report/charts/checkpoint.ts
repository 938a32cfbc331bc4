/**
 * Chart (f): checkpoint schedules as a per-layer heatmap (kept, segment input kept, recomputed) from
 * each policy's real segments, beside predicted and measured activation bytes for the same step.
 */
import { bytes } from "../../format.js";
import { top, type VegaLiteSpec } from "../chart-kit.js";
import type { CheckpointSchedule, ReportData } from "../data.js";
import { byteUnit, distinct, inUnit } from "../units.js";

/** What a layer keeps for backward under a schedule. */
export const LAYER_STATES = ["all kept", "input kept, recomputed", "recomputed"] as const;
export type LayerState = (typeof LAYER_STATES)[number];

/**
 * Per layer: `all kept` in no segment; `input kept, recomputed` first in its segment (the segment's
 * checkpointed input); `recomputed` inside a segment.
 */
export function layerStates(s: CheckpointSchedule): LayerState[] {
  const out: LayerState[] = Array.from({ length: s.layers }, () => "all kept");
  for (const seg of s.segments) {
    for (const [i, l] of seg.entries()) out[l] = i === 0 ? "input kept, recomputed" : "recomputed";
  }
  return out;
}

export function checkpointSpec(data: ReportData): VegaLiteSpec | null {
  const schedules = data.checkpoint.filter((s) => s.layers > 0);
  if (schedules.length === 0) return null;
  const policies = schedules.map((s) => s.policy);
  const extra = (s: CheckpointSchedule) => s.extraForward.toFixed(2);
  const cells = schedules.flatMap((s) =>
    layerStates(s).map((state, layer) => ({ policy: s.policy, layer, state, extra: extra(s) })),
  );
  const maxAct = Math.max(...schedules.flatMap((s) => [s.predictedActBytes, s.measuredActBytes ?? 0]));
  const unit = byteUnit(maxAct);
  const bar = (s: CheckpointSchedule, kind: "predicted" | "measured", n: number) => ({
    policy: s.policy,
    kind,
    value: inUnit(n, unit),
    bytes: bytes(n),
    extra: extra(s),
  });
  const bars = schedules.flatMap((s) => [
    bar(s, "predicted", s.predictedActBytes),
    ...(s.measuredActBytes !== undefined ? [bar(s, "measured", s.measuredActBytes)] : []),
  ]);
  const measured = schedules.some((s) => s.measuredActBytes !== undefined);
  // Both panels share one fixed height and band padding, so a policy's cells and bars line up.
  const height = Math.max(3, schedules.length) * 34;
  const band = { paddingInner: 0.2, paddingOuter: 0.1 };
  const y = { field: "policy", type: "nominal", sort: policies, scale: band, title: "Policy" };
  const maxLayers = Math.max(...schedules.map((s) => s.layers));
  const shapes = distinct(schedules.map((s) => `batch ${s.batch} × ${s.seq} tokens`));
  return top({
    description: "Checkpoint schedules: which layers keep their activations, and the activation bytes",
    spacing: 28,
    hconcat: [
      {
        data: { name: "layers", values: cells },
        width: Math.min(460, Math.max(180, maxLayers * 28)),
        height,
        mark: { type: "rect", tooltip: true },
        encoding: {
          y: { ...y, axis: { labelLimit: 0 } },
          x: {
            field: "layer",
            type: "ordinal",
            title: "Layer",
            scale: { paddingInner: 0.08 },
            axis: { labelAngle: 0, labelOverlap: true },
          },
          color: {
            field: "state",
            type: "nominal",
            scale: { domain: [...LAYER_STATES], range: ["#4e79a7", "#9c755f", "#f28e2b"] },
            title: "Layer activations",
            legend: { labelLimit: 0 },
          },
          tooltip: [
            { field: "policy" },
            { field: "layer" },
            { field: "state" },
            { field: "extra", title: "extra forwards" },
          ],
        },
      },
      {
        data: { name: "act-bytes", values: bars },
        width: 320,
        height,
        mark: { type: "bar", tooltip: true },
        encoding: {
          y: { ...y, axis: { labels: false, ticks: false, domain: false }, title: null },
          yOffset: { field: "kind", type: "nominal", sort: ["predicted", "measured"] },
          x: {
            field: "value",
            type: "quantitative",
            title: `Activation memory (${unit.name}), ${shapes.join("; ")}`,
          },
          color: {
            field: "kind",
            type: "nominal",
            scale: measured
              ? { domain: ["predicted", "measured"], range: ["#a0cbe8", "#1f5591"] }
              : { domain: ["predicted"], range: ["#a0cbe8"] },
            title: "Activation bytes",
          },
          tooltip: [
            { field: "policy" },
            { field: "kind" },
            { field: "bytes" },
            { field: "extra", title: "extra forwards" },
          ],
        },
      },
    ],
    resolve: { scale: { color: "independent" } },
  });
}
