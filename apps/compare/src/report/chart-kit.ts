/**
 * Pieces every chart spec shares: the loose vega-lite spec type, one colour and label per ledger
 * category, the page font and autosize wrapper, and scale/axis helpers. No chart is built here.
 */
import type { Category } from "@tradeoffs/model";
import { BYTE_UNITS, finitePositive } from "./units.js";

/** A vega-lite spec, kept loosely typed: it is plain JSON handed to vega-embed in the page. */
export type VegaLiteSpec = Record<string, unknown>;

/** One colour per ledger category, the same in every chart (Tableau 10, readable on light and dark). */
export const CATEGORY_COLORS: Readonly<Record<Category, string>> = {
  weights: "#4e79a7",
  adapters: "#b07aa1",
  kv: "#f28e2b",
  act: "#e15759",
  grad: "#76b7b2",
  optim: "#59a14f",
  tmp: "#bab0ac",
};

export const CATEGORY_LABELS: Readonly<Record<Category, string>> = {
  weights: "weights",
  adapters: "adapters",
  kv: "KV cache",
  act: "activations",
  grad: "gradients",
  optim: "optimizer",
  tmp: "temporaries",
};

/** Log scale when the values span more than `ratio` (and are all positive), else linear from zero. */
export function autoScale(values: readonly number[], ratio = 50): Record<string, unknown> {
  const pos = values.filter(finitePositive);
  if (pos.length === values.length && pos.length > 1 && Math.max(...pos) / Math.min(...pos) > ratio) {
    return { type: "log" };
  }
  return { zero: true };
}

/** Vega expression labelling a byte count in binary units: 512 B, 32 KiB, 1 GiB. */
export const BYTES_LABEL_EXPR = [
  ...BYTE_UNITS.slice(1)
    .reverse()
    .map((u) => `datum.value >= ${u.divisor} ? format(datum.value / ${u.divisor}, '~g') + ' ${u.name}' : `),
  "format(datum.value, '~g') + ' B'",
].join("");

/**
 * A log₂ byte scale and axis for positive byte counts: ticks at powers of two spaced so that at most
 * eight show (1 KiB, 32 KiB, 1 MiB, …), each labelled in binary units.
 */
export function logBytesChannel(
  field: string,
  title: string,
  values: readonly number[],
): Record<string, unknown> {
  const lo = Math.floor(Math.log2(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log2(Math.max(...values))));
  const step = [1, 2, 5, 10, 20].find((k) => (hi - lo) / k <= 8) ?? 40;
  const ticks: number[] = [];
  for (let e = Math.ceil(lo / step) * step; e <= hi; e += step) ticks.push(2 ** e);
  return {
    field,
    type: "quantitative",
    title: `${title} (log scale)`,
    scale: { type: "log", base: 2, domain: [2 ** lo, 2 ** hi], nice: false },
    axis: { values: ticks, labelExpr: BYTES_LABEL_EXPR },
  };
}

export const FONT_CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600 },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, labelLimit: 0 },
  title: { fontSize: 14, anchor: "start" },
  view: { stroke: null },
};

export function top(spec: VegaLiteSpec): VegaLiteSpec {
  // Single views take the card's width (axis labels and legends included); concatenated views have
  // fixed sizes that fit the page.
  const fit = spec.width === "container";
  return {
    ...spec,
    config: FONT_CONFIG,
    autosize: fit ? { type: "fit-x", contains: "padding" } : { type: "pad" },
  };
}

export function categoryScale(used: readonly Category[]): Record<string, unknown> {
  return { domain: used.map((c) => CATEGORY_LABELS[c]), range: used.map((c) => CATEGORY_COLORS[c]) };
}
