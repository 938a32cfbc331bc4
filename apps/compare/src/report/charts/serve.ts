/**
 * Chart (g): serve timelines, one row per configuration: KV bytes used vs reserved and running
 * sequences over scheduler steps.
 */
import { bytes, percent } from "../../format.js";
import { top, type VegaLiteSpec } from "../chart-kit.js";
import type { ReportData } from "../data.js";
import { byteUnit, inUnit } from "../units.js";

export function serveSpec(data: ReportData): VegaLiteSpec | null {
  const timelines = data.serve.filter((t) => t.steps.length > 0);
  if (timelines.length === 0) return null;
  const all = timelines.flatMap((t) => t.steps);
  const unit = byteUnit(Math.max(...all.flatMap((s) => [s.kvBytesUsed, s.kvBytesReserved])));
  const kvMax = inUnit(Math.max(...all.flatMap((s) => [s.kvBytesUsed, s.kvBytesReserved])), unit);
  const runMax = Math.max(1, ...all.map((s) => s.running));
  const steps = all.map((s) => s.step);
  const x = {
    field: "step",
    type: "quantitative",
    title: "Scheduler step",
    scale: { domain: [Math.min(...steps), Math.max(...steps)], nice: false },
  };
  const metricColor = {
    field: "metric",
    type: "nominal",
    scale: { domain: ["used", "reserved"], range: ["#4e79a7", "#e15759"] },
    title: "KV bytes",
  };
  // One row per configuration (small multiples with shared axes), so equal timelines never hide each other.
  const rows = timelines.map((t) => {
    const used = t.steps.reduce((a, s) => a + s.kvBytesUsed, 0);
    const reserved = t.steps.reduce((a, s) => a + s.kvBytesReserved, 0);
    const peak = Math.max(...t.steps.map((s) => s.kvBytesReserved));
    const values = t.steps.map((s) => ({
      step: s.step,
      used: inUnit(s.kvBytesUsed, unit),
      reserved: inUnit(s.kvBytesReserved, unit),
      running: s.running,
      usedText: bytes(s.kvBytesUsed),
      reservedText: bytes(s.kvBytesReserved),
    }));
    const tooltip = [
      { field: "step" },
      { field: "usedText", title: "KV used" },
      { field: "reservedText", title: "KV reserved" },
      { field: "running", title: "running sequences" },
    ];
    return {
      title: {
        text: t.config,
        subtitle: `reserved but unused: ${reserved > 0 ? percent(1 - used / reserved) : "—"} of reserved KV bytes over the run · peak reserved ${bytes(peak)}`,
        fontSize: 13,
      },
      data: { values },
      spacing: 24,
      hconcat: [
        {
          width: 470,
          height: 150,
          layer: [
            {
              mark: { type: "area", interpolate: "step-after", color: "#4e79a7", opacity: 0.18 },
              encoding: {
                x,
                y: {
                  field: "used",
                  type: "quantitative",
                  scale: { domain: [0, kvMax] },
                  title: `KV cache (${unit.name})`,
                },
              },
            },
            {
              transform: [{ fold: ["used", "reserved"], as: ["metric", "value"] }],
              mark: { type: "line", interpolate: "step-after", strokeWidth: 2, tooltip: true },
              encoding: {
                x,
                y: { field: "value", type: "quantitative" },
                color: metricColor,
                strokeDash: {
                  field: "metric",
                  type: "nominal",
                  scale: {
                    domain: ["used", "reserved"],
                    range: [
                      [1, 0],
                      [6, 3],
                    ],
                  },
                  title: "KV bytes",
                },
                tooltip,
              },
            },
          ],
        },
        {
          width: 230,
          height: 150,
          mark: { type: "line", interpolate: "step-after", strokeWidth: 2, color: "#59a14f", tooltip: true },
          encoding: {
            x,
            y: {
              field: "running",
              type: "quantitative",
              scale: { domain: [0, runMax] },
              title: "Running sequences",
              axis: { tickMinStep: 1 },
            },
            tooltip,
          },
        },
      ],
    };
  });
  return top({
    description: "Serve timelines: KV bytes used vs reserved, and running sequences, per scheduler step",
    spacing: 26,
    vconcat: rows,
  });
}
