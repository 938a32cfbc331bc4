/**
 * Chart: the estimator's memory by category for each configuration projected to a published
 * model (the scale model). Estimated only; nothing here is measured.
 */
import { CATEGORIES } from "@tradeoffs/model";
import { bytes } from "../../format.js";
import { CATEGORY_LABELS, categoryScale, top, type VegaLiteSpec } from "../chart-kit.js";
import type { ReportRow } from "../data.js";
import { byteUnit, distinct, inUnit, total } from "../units.js";

export function scaleSpec(rows: readonly ReportRow[]): VegaLiteSpec | null {
  const withScale = rows.filter((r) => r.scale !== undefined);
  if (withScale.length === 0) return null;
  const unit = byteUnit(
    Math.max(...withScale.map((r) => Math.max(r.scale!.totalBytes, total(r.scale!.estimated)))),
  );
  const used = CATEGORIES.filter((c) => withScale.some((r) => (r.scale!.estimated[c] ?? 0) > 0));
  const models = distinct(withScale.map((r) => r.scale!.model));
  const values = withScale.flatMap((r) =>
    used.map((c, order) => ({
      config: r.config,
      model: r.scale!.model,
      category: CATEGORY_LABELS[c],
      order,
      value: inUnit(r.scale!.estimated[c] ?? 0, unit),
      bytes: bytes(r.scale!.estimated[c] ?? 0),
      total: bytes(r.scale!.totalBytes),
    })),
  );
  return top({
    description: `Estimated memory projected to ${models.join(", ")}`,
    data: { values },
    mark: { type: "bar", tooltip: true },
    width: "container",
    height: Math.max(80, withScale.length * 24),
    encoding: {
      y: { field: "config", type: "nominal", sort: null, title: null, axis: { labelLimit: 0 } },
      x: {
        field: "value",
        type: "quantitative",
        stack: "zero",
        title: `Estimated memory on ${models.join(", ")} (${unit.name})`,
      },
      color: { field: "category", type: "nominal", scale: categoryScale(used), title: "Category" },
      order: { field: "order", type: "quantitative" },
      tooltip: [
        { field: "config", title: "configuration" },
        { field: "model" },
        { field: "category" },
        { field: "bytes", title: "bytes" },
        { field: "total", title: "total" },
      ],
    },
  });
}
