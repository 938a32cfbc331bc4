/**
 * Chart (e): quality against the unmodified reference: loss delta bars and top-1 agreement
 * points, one row per configuration.
 */
import { percent } from "../../format.js";
import { top, type VegaLiteSpec } from "../chart-kit.js";
import type { ReportRow } from "../data.js";

export function qualitySpec(rows: readonly ReportRow[]): VegaLiteSpec | null {
  const withQ = rows.filter((r) => r.quality !== undefined);
  if (withQ.length === 0) return null;
  const configs = withQ.map((r) => r.config);
  const values = withQ.map((r) => {
    const q = r.quality!;
    return {
      config: r.config,
      lossDelta: q.lossDelta,
      top1: q.top1Agreement,
      kl: q.klDivergence.toExponential(2),
      ppl: `${q.perplexity.toFixed(2)} (reference ${q.referencePerplexity.toFixed(2)})`,
      top1Text: percent(q.top1Agreement),
      lossText: q.lossDelta.toFixed(4),
    };
  });
  const minTop1 = Math.min(...withQ.map((r) => r.quality!.top1Agreement));
  const top1Lo = Number.isFinite(minTop1) ? Math.max(0, Math.floor((minTop1 - 0.02) * 50) / 50) : 0;
  const tooltip = [
    { field: "config", title: "configuration" },
    { field: "lossText", title: "loss Δ" },
    { field: "top1Text", title: "top-1 agreement" },
    { field: "kl", title: "KL divergence" },
    { field: "ppl", title: "perplexity" },
  ];
  const y = {
    field: "config",
    type: "nominal",
    sort: configs,
    title: null,
    axis: { labelLimit: 0 },
  };
  return top({
    description: "Quality against the unmodified reference: loss delta and top-1 agreement",
    data: { values },
    spacing: 24,
    hconcat: [
      {
        width: 300,
        height: { step: 22 },
        layer: [
          {
            mark: { type: "bar", tooltip: true },
            encoding: {
              y,
              x: { field: "lossDelta", type: "quantitative", title: "Loss Δ vs reference (lower is better)" },
              color: {
                condition: { test: "datum.lossDelta > 0", value: "#e15759" },
                value: "#59a14f",
              },
              tooltip,
            },
          },
          { mark: { type: "rule", color: "#888" }, encoding: { x: { datum: 0 } } },
        ],
      },
      {
        width: 300,
        height: { step: 22 },
        mark: { type: "point", filled: true, size: 80, color: "#4e79a7", tooltip: true },
        encoding: {
          y: { ...y, axis: { labels: false, ticks: false, domain: false }, title: null },
          x: {
            field: "top1",
            type: "quantitative",
            scale: { domain: [top1Lo, 1] },
            axis: { format: ".0%" },
            title: "Top-1 agreement with reference (%)",
          },
          tooltip,
        },
      },
    ],
  });
}
