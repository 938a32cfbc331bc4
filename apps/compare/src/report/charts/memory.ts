/**
 * Charts (a): peak memory by ledger category per configuration, measured vs estimated, for one
 * workload (infer or train). Data comes from the report rows; nothing is computed but units.
 */

import { CATEGORIES } from "@tradeoffs/model";
import { bytes } from "../../format.js";
import { CATEGORY_LABELS, categoryScale, top, type VegaLiteSpec } from "../chart-kit.js";
import type { ReportRow } from "../data.js";
import { byteUnit, inUnit, total } from "../units.js";

export type Workload = "infer" | "train";

export function memorySpec(rows: readonly ReportRow[], workload: Workload): VegaLiteSpec | null {
  const withRun = rows.filter((r) => r[workload] !== undefined);
  if (withRun.length === 0) return null;
  const max = Math.max(
    ...withRun.flatMap((r) => {
      const run = r[workload]!;
      return [total(run.measured), total(run.estimated)];
    }),
  );
  const unit = byteUnit(max);
  const used = CATEGORIES.filter((c) =>
    withRun.some((r) => (r[workload]!.measured[c] ?? 0) > 0 || (r[workload]!.estimated[c] ?? 0) > 0),
  );
  const values = withRun.flatMap((r) => {
    const run = r[workload]!;
    return (["measured", "estimated"] as const).flatMap((source) =>
      used.map((c, order) => ({
        config: r.config,
        source,
        category: CATEGORY_LABELS[c],
        order,
        value: inUnit(run[source][c] ?? 0, unit),
        bytes: bytes(run[source][c] ?? 0),
        total: bytes(total(run[source])),
      })),
    );
  });
  return top({
    description: `Peak memory by ledger category per configuration (${workload}), measured vs estimated`,
    data: { values },
    mark: { type: "bar", tooltip: true },
    width: "container",
    height: Math.max(120, withRun.length * 44),
    encoding: {
      y: { field: "config", type: "nominal", sort: null, title: null, axis: { labelLimit: 0 } },
      yOffset: {
        field: "source",
        type: "nominal",
        sort: ["measured", "estimated"],
        scale: { paddingInner: 0.1 },
      },
      x: { field: "value", type: "quantitative", stack: "zero", title: `Peak memory (${unit.name})` },
      color: { field: "category", type: "nominal", scale: categoryScale(used), title: "Category" },
      order: { field: "order", type: "quantitative" },
      opacity: {
        field: "source",
        type: "nominal",
        sort: ["measured", "estimated"],
        scale: { domain: ["measured", "estimated"], range: [1, 0.45] },
        title: "Bar (upper / lower)",
      },
      tooltip: [
        { field: "config", title: "configuration" },
        { field: "source" },
        { field: "category" },
        { field: "bytes", title: "bytes" },
        { field: "total", title: `${workload} total` },
      ],
    },
  });
}
