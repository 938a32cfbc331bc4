/**
 * Line charts over sequence length: the log₂ token axis and measured (solid) vs estimated (dashed)
 * series with dots at the data points. Shared by the sweep and attention-time charts.
 */
import type { VegaLiteSpec } from "../chart-kit.js";
import type { SweepPoint } from "../data.js";
import { distinct, finitePositive } from "../units.js";

export function seqAxis(points: readonly SweepPoint[]): Record<string, unknown> {
  const seqs = distinct(points.map((p) => p.seq)).sort((a, b) => a - b);
  const positive = seqs.every(finitePositive);
  return {
    field: "seq",
    type: "quantitative",
    title: "Sequence length (tokens, log₂)",
    scale: positive ? { type: "log", base: 2, nice: false } : { zero: false },
    axis: seqs.length <= 12 ? { values: seqs, format: "d" } : { format: "~s" },
  };
}

/** Measured (solid) vs estimated (dashed) lines per series, with dots at the data points. */
export function seriesLines(
  x: Record<string, unknown>,
  y: Record<string, unknown>,
  series: readonly string[],
  points: readonly SweepPoint[],
  tooltip: readonly Record<string, unknown>[],
): VegaLiteSpec[] {
  const dashes = { measured: [1, 0], estimated: [5, 4] } as const;
  const sources = (["measured", "estimated"] as const).filter((s) => points.some((p) => p.source === s));
  const color = {
    field: "series",
    type: "nominal",
    sort: series,
    scale: { domain: series },
    title: "Series",
  };
  return [
    {
      mark: { type: "line", strokeWidth: 2 },
      encoding: {
        x,
        y,
        color,
        strokeDash: {
          field: "source",
          type: "nominal",
          sort: sources,
          scale: { domain: sources, range: sources.map((s) => dashes[s]) },
          title: "Source",
          legend: { symbolType: "stroke", symbolStrokeColor: "#888", symbolStrokeWidth: 2 },
        },
      },
    },
    {
      mark: { type: "point", filled: true, size: 45, opacity: 1, tooltip: true },
      encoding: { x, y, color, tooltip },
    },
  ];
}
