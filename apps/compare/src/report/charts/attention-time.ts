/**
 * Chart: the measured wall time of one whole training step (forward, backward, optimizer) with
 * standard vs Flash attention — the table's "train ms/step" numbers. Attention alone is not timed.
 */
import { ms } from "../../format.js";
import { top, type VegaLiteSpec } from "../chart-kit.js";
import type { ReportRow } from "../data.js";

/** Standard attention (`Baseline`) and Flash attention on its own (`Flash`, `Flash[…]`, no `+`). */
export function isAttentionRow(config: string): boolean {
  return (
    config === "Baseline" || ((config === "Flash" || config.startsWith("Flash[")) && !config.includes("+"))
  );
}

/** One bar per attention row that trained: its step time, as in the speed table. */
export function trainStepPoints(rows: readonly ReportRow[]) {
  return rows.flatMap((r) =>
    r.train && isAttentionRow(r.config) && Number.isFinite(r.train.stepMs)
      ? [
          {
            config: r.config,
            attention: r.config === "Baseline" ? "Standard" : "Flash",
            stepMs: r.train.stepMs,
            time: `${ms(r.train.stepMs)} ms`,
            shape: `batch ${r.train.batch} × ${r.train.seq} tokens`,
          },
        ]
      : [],
  );
}

export function attentionTimeSpec(rows: readonly ReportRow[]): VegaLiteSpec | null {
  const values = trainStepPoints(rows);
  if (values.length === 0) return null;
  const kinds = (["Standard", "Flash"] as const).filter((k) => values.some((v) => v.attention === k));
  return top({
    description: "Measured training step time, standard vs Flash attention",
    data: { name: "step-times", values },
    width: "container",
    height: Math.max(2, values.length) * 36,
    mark: { type: "bar", tooltip: true },
    encoding: {
      y: { field: "config", type: "nominal", sort: null, title: null, axis: { labelLimit: 0 } },
      x: { field: "stepMs", type: "quantitative", title: "Training step (ms, whole step)" },
      color: {
        field: "attention",
        type: "nominal",
        // Only the kinds that ran, so the legend names nothing absent.
        scale: {
          domain: kinds,
          range: kinds.map((k) => (k === "Standard" ? "#4e79a7" : "#f28e2b")),
        },
        title: "Attention",
      },
      tooltip: [
        { field: "config", title: "configuration" },
        { field: "shape", title: "step" },
        { field: "time", title: "train ms/step" },
      ],
    },
  });
}
