/**
 * Chart (b): measured vs estimated peak totals per configuration and workload, with the y = x
 * line where the estimate is exact.
 */
import { bytes } from "../../format.js";
import { autoScale, top, type VegaLiteSpec } from "../chart-kit.js";
import type { ReportRow } from "../data.js";
import { byteUnit, finitePositive, inUnit, total } from "../units.js";

export function measuredVsEstimatedSpec(rows: readonly ReportRow[]): VegaLiteSpec | null {
  const points = rows.flatMap((r) =>
    (["infer", "train"] as const).flatMap((workload) => {
      const run = r[workload];
      if (!run) return [];
      const measured = total(run.measured);
      const estimated = total(run.estimated);
      return [{ config: r.config, workload, measured, estimated }];
    }),
  );
  if (points.length === 0) return null;
  const all = points.flatMap((p) => [p.measured, p.estimated]);
  const unit = byteUnit(Math.max(...all));
  const scale = autoScale(all, 20);
  const log = scale.type === "log";
  const lo = log ? Math.min(...all.filter(finitePositive)) / 1.3 : 0;
  const hi = Math.max(...all) * (log ? 1.3 : 1.06);
  const values = points.map((p) => ({
    config: p.config,
    workload: p.workload,
    measured: inUnit(p.measured, unit),
    estimated: inUnit(p.estimated, unit),
    measuredText: bytes(p.measured),
    estimatedText: bytes(p.estimated),
    error: p.estimated > 0 ? `${(((p.measured - p.estimated) / p.estimated) * 100).toFixed(1)}%` : "—",
  }));
  const axisScale = { ...scale, domain: [inUnit(lo, unit), inUnit(hi, unit)], nice: false };
  return top({
    description: "Measured vs estimated peak memory per configuration and workload",
    width: 520,
    height: 420,
    layer: [
      {
        data: {
          values: [
            { x: inUnit(lo, unit), y: inUnit(lo, unit), label: "" },
            { x: inUnit(hi, unit), y: inUnit(hi, unit), label: "y = x (estimate exact)" },
          ],
        },
        layer: [
          {
            mark: { type: "line", strokeDash: [6, 4], color: "#888", strokeWidth: 1.5 },
            encoding: {
              x: { field: "x", type: "quantitative", scale: axisScale },
              y: { field: "y", type: "quantitative", scale: axisScale },
            },
          },
          {
            mark: {
              type: "text",
              align: "right",
              baseline: "top",
              dx: -4,
              dy: 10,
              color: "#888",
              fontSize: 11,
            },
            encoding: {
              x: { field: "x", type: "quantitative" },
              y: { field: "y", type: "quantitative" },
              text: { field: "label" },
            },
          },
        ],
      },
      {
        data: { values },
        mark: { type: "point", filled: true, size: 90, opacity: 0.85, tooltip: true },
        encoding: {
          x: {
            field: "estimated",
            type: "quantitative",
            scale: axisScale,
            title: `Estimated peak (${unit.name}${log ? ", log" : ""})`,
          },
          y: {
            field: "measured",
            type: "quantitative",
            scale: axisScale,
            title: `Measured peak (${unit.name}${log ? ", log" : ""})`,
          },
          color: {
            field: "config",
            type: "nominal",
            sort: null,
            scale: { scheme: "tableau20" },
            title: "Configuration",
          },
          shape: {
            field: "workload",
            type: "nominal",
            scale: { domain: ["infer", "train"], range: ["circle", "square"] },
            title: "Workload",
          },
          tooltip: [
            { field: "config", title: "configuration" },
            { field: "workload" },
            { field: "measuredText", title: "measured" },
            { field: "estimatedText", title: "estimated" },
            { field: "error", title: "(measured − estimated) / estimated" },
          ],
        },
      },
    ],
  });
}
