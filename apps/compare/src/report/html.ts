/**
 * The compare app's HTML report: ONE self-contained file that works offline at view time.
 *
 * The browser builds of vega, vega-lite and vega-embed are read from node_modules at render time and
 * inlined; the report data and the vega-lite specs (built here, in TypeScript, from the data) are
 * embedded as JSON in `<script type="application/json">` tags. A Content-Security-Policy in the page
 * forbids every network fetch, so the file behaves the same on a machine without a network.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { bytes, ms, percent } from "../format.js";
import type { CategoryBytes, CheckpointSchedule, ReportData, ReportRow, SweepPoint } from "./data.js";

/** A vega-lite spec, kept loosely typed: it is plain JSON handed to vega-embed in the page. */
export type VegaLiteSpec = Record<string, unknown>;

export interface ReportChart {
  /** Stable id, used as the container's `data-chart` attribute. */
  readonly id: ChartId;
  readonly title: string;
  readonly description: string;
  /** `null` when this run produced no data for the chart (the page shows a short note instead). */
  readonly spec: VegaLiteSpec | null;
}

/** Every chart the report can show, in page order. */
export const CHART_IDS = [
  "memory-infer",
  "memory-train",
  "memory-scale",
  "measured-vs-estimated",
  "attention-memory",
  "attention-time",
  "kv-memory",
  "quality",
  "checkpoint",
  "serve",
] as const;
export type ChartId = (typeof CHART_IDS)[number];

const CATEGORIES = ["weights", "adapters", "kv", "act", "grad", "optim", "tmp"] as const;
type Category = (typeof CATEGORIES)[number];

/** One colour per ledger category, the same in every chart (Tableau 10, readable on light and dark). */
const CATEGORY_COLORS: Readonly<Record<Category, string>> = {
  weights: "#4e79a7",
  adapters: "#b07aa1",
  kv: "#f28e2b",
  act: "#e15759",
  grad: "#76b7b2",
  optim: "#59a14f",
  tmp: "#bab0ac",
};

const CATEGORY_LABELS: Readonly<Record<Category, string>> = {
  weights: "weights",
  adapters: "adapters",
  kv: "KV cache",
  act: "activations",
  grad: "gradients",
  optim: "optimizer",
  tmp: "temporaries",
};

// ---------------------------------------------------------------------------------------------
// Units

interface ByteUnit {
  readonly name: "B" | "KiB" | "MiB" | "GiB" | "TiB";
  readonly divisor: number;
}

const BYTE_UNITS: readonly ByteUnit[] = [
  { name: "B", divisor: 1 },
  { name: "KiB", divisor: 1024 },
  { name: "MiB", divisor: 1024 ** 2 },
  { name: "GiB", divisor: 1024 ** 3 },
  { name: "TiB", divisor: 1024 ** 4 },
];

/** The largest binary unit in which `maxBytes` is at least 1 (axis values then read 1…1023). */
export function byteUnit(maxBytes: number): ByteUnit {
  let unit = BYTE_UNITS[0]!;
  for (const u of BYTE_UNITS) if (Number.isFinite(maxBytes) && Math.abs(maxBytes) >= u.divisor) unit = u;
  return unit;
}

function inUnit(n: number, unit: ByteUnit): number {
  return n / unit.divisor;
}

function total(c: CategoryBytes): number {
  return CATEGORIES.reduce((s, k) => s + (c[k] ?? 0), 0);
}

function finitePositive(n: number): boolean {
  return Number.isFinite(n) && n > 0;
}

/** Log scale when the values span more than `ratio` (and are all positive), else linear from zero. */
function autoScale(values: readonly number[], ratio = 50): Record<string, unknown> {
  const pos = values.filter(finitePositive);
  if (pos.length === values.length && pos.length > 1 && Math.max(...pos) / Math.min(...pos) > ratio) {
    return { type: "log" };
  }
  return { zero: true };
}

/** Vega expression labelling a byte count in binary units: 512 B, 32 KiB, 1 GiB. */
const BYTES_LABEL_EXPR = [
  ...BYTE_UNITS.slice(1)
    .reverse()
    .map((u) => `datum.value >= ${u.divisor} ? format(datum.value / ${u.divisor}, '~g') + ' ${u.name}' : `),
  "format(datum.value, '~g') + ' B'",
].join("");

/**
 * A log₂ byte scale and axis for positive byte counts: ticks at powers of two spaced so that at most
 * eight show (1 KiB, 32 KiB, 1 MiB, …), each labelled in binary units.
 */
function logBytesChannel(field: string, title: string, values: readonly number[]): Record<string, unknown> {
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

// ---------------------------------------------------------------------------------------------
// Shared spec pieces

const FONT_CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600 },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, labelLimit: 220 },
  title: { fontSize: 14, anchor: "start" },
  view: { stroke: null },
};

function top(spec: VegaLiteSpec): VegaLiteSpec {
  // Single views take the card's width (axis labels and legends included); concatenated views have
  // fixed sizes that fit the page.
  const fit = spec.width === "container";
  return {
    ...spec,
    config: FONT_CONFIG,
    autosize: fit ? { type: "fit-x", contains: "padding" } : { type: "pad" },
  };
}

function categoryScale(used: readonly Category[]): Record<string, unknown> {
  return { domain: used.map((c) => CATEGORY_LABELS[c]), range: used.map((c) => CATEGORY_COLORS[c]) };
}

/** Distinct values in first-seen order. */
function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

// ---------------------------------------------------------------------------------------------
// (a) memory by category, measured vs estimated, per configuration

type Workload = "infer" | "train";

function memorySpec(rows: readonly ReportRow[], workload: Workload): VegaLiteSpec | null {
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
      y: { field: "config", type: "nominal", sort: null, title: null, axis: { labelLimit: 280 } },
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

function scaleSpec(rows: readonly ReportRow[]): VegaLiteSpec | null {
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
      y: { field: "config", type: "nominal", sort: null, title: null, axis: { labelLimit: 280 } },
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

// ---------------------------------------------------------------------------------------------
// (b) measured vs estimated totals, with the y = x line

function measuredVsEstimatedSpec(rows: readonly ReportRow[]): VegaLiteSpec | null {
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

// ---------------------------------------------------------------------------------------------
// (c), (d) sweeps over sequence length

function seqAxis(points: readonly SweepPoint[]): Record<string, unknown> {
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
function seriesLines(
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

function sweepSpec(
  points: readonly SweepPoint[],
  what: string,
  seriesOrder: readonly string[],
): VegaLiteSpec | null {
  const pts = points.filter((p) => Number.isFinite(p.bytes) && Number.isFinite(p.seq));
  if (pts.length === 0) return null;
  const unit = byteUnit(Math.max(...pts.map((p) => p.bytes)));
  const log = pts.every((p) => finitePositive(p.bytes));
  const series = distinct([
    ...seriesOrder.filter((s) => pts.some((p) => p.series === s)),
    ...pts.map((p) => p.series),
  ]);
  const values = pts.map((p) => ({
    series: p.series,
    seq: p.seq,
    source: p.source,
    value: log ? p.bytes : inUnit(p.bytes, unit),
    bytes: bytes(p.bytes),
  }));
  const y = log
    ? logBytesChannel(
        "value",
        what,
        pts.map((p) => p.bytes),
      )
    : { field: "value", type: "quantitative", scale: { zero: true }, title: `${what} (${unit.name})` };
  return top({
    description: `${what} vs sequence length`,
    data: { values },
    width: "container",
    height: 340,
    layer: seriesLines(seqAxis(pts), y, series, pts, [
      { field: "series" },
      { field: "seq", title: "tokens" },
      { field: "source" },
      { field: "bytes" },
    ]),
  });
}

function attentionTimeSpec(points: readonly SweepPoint[]): VegaLiteSpec | null {
  const pts = points.filter((p) => p.timeMs !== undefined && Number.isFinite(p.timeMs));
  if (pts.length === 0) return null;
  const times = pts.map((p) => p.timeMs!);
  const yScale = autoScale(times, 20);
  const series = distinct([
    ...["Standard", "Flash"].filter((s) => pts.some((p) => p.series === s)),
    ...pts.map((p) => p.series),
  ]);
  const values = pts.map((p) => ({
    series: p.series,
    seq: p.seq,
    source: p.source,
    timeMs: p.timeMs!,
    time: `${ms(p.timeMs!)} ms`,
  }));
  const y = {
    field: "timeMs",
    type: "quantitative",
    scale: yScale,
    title: `Time (ms${yScale.type === "log" ? ", log scale" : ""})`,
  };
  return top({
    description: "Attention time vs sequence length",
    data: { values },
    width: "container",
    height: 300,
    layer: seriesLines(seqAxis(pts), y, series, pts, [
      { field: "series" },
      { field: "seq", title: "tokens" },
      { field: "source" },
      { field: "time" },
    ]),
  });
}

// ---------------------------------------------------------------------------------------------
// (e) quality deltas

function qualitySpec(rows: readonly ReportRow[]): VegaLiteSpec | null {
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
    axis: { labelLimit: 280 },
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

// ---------------------------------------------------------------------------------------------
// (f) checkpoint schedules

function checkpointSpec(data: ReportData): VegaLiteSpec | null {
  const schedules = data.checkpoint.filter((s) => s.keep.length > 0);
  if (schedules.length === 0) return null;
  const policies = schedules.map((s) => s.policy);
  const extra = (s: CheckpointSchedule) => s.extraForward.toFixed(2);
  const cells = schedules.flatMap((s) =>
    s.keep.map((kept, layer) => ({
      policy: s.policy,
      layer,
      state: kept ? "kept" : "recomputed",
      extra: extra(s),
    })),
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
  const maxLayers = Math.max(...schedules.map((s) => s.keep.length));
  return top({
    description: "Checkpoint schedules: which layers keep their activations, and the activation bytes",
    spacing: 28,
    hconcat: [
      {
        data: { values: cells },
        width: Math.min(460, Math.max(180, maxLayers * 28)),
        height,
        mark: { type: "rect", tooltip: true },
        encoding: {
          y: { ...y, axis: { labelLimit: 160 } },
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
            scale: { domain: ["kept", "recomputed"], range: ["#4e79a7", "#f28e2b"] },
            title: "Activations",
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
        data: { values: bars },
        width: 320,
        height,
        mark: { type: "bar", tooltip: true },
        encoding: {
          y: { ...y, axis: { labels: false, ticks: false, domain: false }, title: null },
          yOffset: { field: "kind", type: "nominal", sort: ["predicted", "measured"] },
          x: { field: "value", type: "quantitative", title: `Activation memory (${unit.name})` },
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

// ---------------------------------------------------------------------------------------------
// (g) serve timelines

function serveSpec(data: ReportData): VegaLiteSpec | null {
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

// ---------------------------------------------------------------------------------------------
// Charts

/** The vega-lite specs of every chart, built from the data (`spec: null` where there is no data). */
export function buildCharts(data: ReportData): ReportChart[] {
  const scaleModels = distinct(data.rows.flatMap((r) => (r.scale ? [r.scale.model] : [])));
  const charts: Record<ChartId, Omit<ReportChart, "id">> = {
    "memory-infer": {
      title: "Memory by category — inference",
      description: `Peak bytes per ledger category on \`${data.model}\`: for each configuration the upper bar is measured, the lower (faded) bar is the estimator's prediction.`,
      spec: memorySpec(data.rows, "infer"),
    },
    "memory-train": {
      title: "Memory by category — training",
      description: `Peak bytes per ledger category during a training step on \`${data.model}\`: measured (upper) vs estimated (lower, faded).`,
      spec: memorySpec(data.rows, "train"),
    },
    "memory-scale": {
      title: `Projected to ${scaleModels.length > 0 ? scaleModels.join(", ") : "a published model"}`,
      description: "The estimator's prediction for the same configurations at the scale model's size.",
      spec: scaleSpec(data.rows),
    },
    "measured-vs-estimated": {
      title: "Measured vs estimated totals",
      description:
        "Each point is one configuration and workload; points on the dashed line are predicted exactly.",
      spec: measuredVsEstimatedSpec(data.rows),
    },
    "attention-memory": {
      title: "Attention memory vs sequence length",
      description:
        "Standard attention materialises the score matrix (quadratic); Flash attention keeps running statistics (linear).",
      spec: sweepSpec(data.attentionSweep, "Attention memory", ["Standard", "Flash"]),
    },
    "attention-time": {
      title: "Attention time vs sequence length",
      description: "Wall-clock time of the attention kernels where they ran here.",
      spec: attentionTimeSpec(data.attentionSweep),
    },
    "kv-memory": {
      title: "KV cache vs sequence length",
      description:
        "Multi-head attention vs grouped-query and multi-query attention (fewer KV heads, smaller cache).",
      spec: sweepSpec(data.kvSweep, "KV cache", ["MHA", "GQA", "MQA"]),
    },
    quality: {
      title: "Quality deltas",
      description: "Loss change and top-1 next-token agreement against the unmodified reference model.",
      spec: qualitySpec(data.rows),
    },
    checkpoint: {
      title: "Checkpoint schedules",
      description:
        "Which layers keep their activations (others are recomputed in the backward pass), with predicted and measured activation bytes.",
      spec: checkpointSpec(data),
    },
    serve: {
      title: "Serve timelines",
      description:
        "Per configuration: KV cache bytes in use (solid, shaded) vs reserved (dashed), and running sequences, over scheduler steps.",
      spec: serveSpec(data),
    },
  };
  return CHART_IDS.map((id) => ({ id, ...charts[id] }));
}

// ---------------------------------------------------------------------------------------------
// HTML

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * JSON safe to place inside `<script type="application/json">`: `<`, `>` and `&` become `\u003c`…
 * (so no `</script>` or `<!--` can appear), and U+2028/U+2029 are escaped too. `JSON.parse` of the
 * element's text gives back the same value.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Inline text (`code` spans) in notes and descriptions: `x` → <code>x</code>, everything escaped. */
function inlineText(s: string): string {
  return escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>");
}

const LIBRARIES = [
  { pkg: "vega", file: "build/vega.min.js" },
  { pkg: "vega-lite", file: "build/vega-lite.min.js" },
  { pkg: "vega-embed", file: "build/vega-embed.min.js" },
] as const;

interface Library {
  readonly name: string;
  readonly version: string;
  readonly code: string;
}

/**
 * The path of a file inside a package. `require.resolve("pkg/file")` where the package allows it;
 * vega-embed's `exports` map hides its build files, so otherwise walk up from the package's entry
 * point to the folder whose package.json names the package and that holds the file (vega-lite also
 * ships a copy of its package.json inside build/, hence the second check).
 */
function packageFile(require: NodeJS.Require, pkg: string, file: string): { path: string; version: string } {
  const versionAt = (dir: string): string | undefined => {
    try {
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      return json.name === pkg ? json.version : undefined;
    } catch {
      return undefined;
    }
  };
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    const version = versionAt(dir);
    if (version !== undefined && existsSync(join(dir, file))) return { path: join(dir, file), version };
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`renderHtmlReport: cannot find ${pkg}/${file} (is ${pkg} installed?)`);
    dir = parent;
  }
}

let libraryCache: readonly Library[] | undefined;

/** The browser builds of vega, vega-lite and vega-embed, read once from node_modules. */
export function chartLibraries(): readonly Library[] {
  if (libraryCache) return libraryCache;
  const require = createRequire(import.meta.url);
  libraryCache = LIBRARIES.map(({ pkg, file }) => {
    const { path, version } = packageFile(require, pkg, file);
    return { name: pkg, version, code: inlineScript(readFileSync(path, "utf8")) };
  });
  return libraryCache;
}

/** Script text safe inside `<script>`: a literal `</script` or `<!--` would end or confuse the element. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** A table; `groups` adds a first header row of column groups (label, number of columns spanned). */
function tableHtml(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  caption: string,
  groups: readonly (readonly [string, number])[] = [],
): string {
  const groupRow =
    groups.length > 0
      ? `<tr class="groups">${groups.map(([label, span]) => `<th scope="colgroup" colspan="${span}">${escapeHtml(label)}</th>`).join("")}</tr>`
      : "";
  const th = headers
    .map((h, i) => `<th scope="col"${i === 0 ? ' class="text"' : ""}>${escapeHtml(h)}</th>`)
    .join("");
  const trs = rows
    .map(
      (cells) =>
        `<tr>${cells
          .map((c, i) =>
            i === 0 ? `<th scope="row" class="text">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`,
          )
          .join("")}</tr>`,
    )
    .join("\n");
  return `<div class="table-wrap"><table>\n<caption>${escapeHtml(caption)}</caption>\n<thead>${groupRow}<tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table></div>`;
}

/** The rows as two readable tables: memory (measured vs estimated, projected), then speed and quality. */
function resultsHtml(data: ReportData): string {
  if (data.rows.length === 0) return `<p class="no-data">No configurations in this run.</p>`;
  const dash = "—";
  const diff = (m: number, e: number) =>
    e > 0 ? `${m >= e ? "+" : ""}${((m / e - 1) * 100).toFixed(1)}%` : dash;
  const run = (r: { measured: CategoryBytes; estimated: CategoryBytes } | undefined) => {
    if (!r) return [dash, dash, dash];
    const m = total(r.measured);
    const e = total(r.estimated);
    return [bytes(m), bytes(e), diff(m, e)];
  };
  const scaleModels = distinct(data.rows.flatMap((r) => (r.scale ? [r.scale.model] : [])));
  const memory = tableHtml(
    [
      "Configuration",
      "measured",
      "estimated",
      "meas. vs est.",
      "measured",
      "estimated",
      "meas. vs est.",
      "estimated",
    ],
    data.rows.map((r) => [
      r.config,
      ...run(r.infer),
      ...run(r.train),
      r.scale
        ? scaleModels.length === 1
          ? bytes(r.scale.totalBytes)
          : `${bytes(r.scale.totalBytes)} (${r.scale.model})`
        : dash,
    ]),
    `Peak memory on ${data.model}: measured vs estimated totals`,
    [
      ["", 1],
      ["Inference", 3],
      ["Training", 3],
      [scaleModels.length === 1 ? `Projected to ${scaleModels[0]}` : "Projected", 1],
    ],
  );
  const speed = tableHtml(
    [
      "Configuration",
      "prefill tok/s",
      "decode ms/tok",
      "train ms/step",
      "loss Δ",
      "top-1",
      "KL",
      "perplexity (ref.)",
    ],
    data.rows.map((r) => {
      const q = r.quality;
      return [
        r.config,
        r.infer ? r.infer.prefillTokensPerSec.toFixed(0) : dash,
        r.infer ? ms(r.infer.decodeMsPerToken) : dash,
        r.train ? ms(r.train.stepMs) : dash,
        q ? q.lossDelta.toFixed(4) : dash,
        q ? percent(q.top1Agreement) : dash,
        q ? q.klDivergence.toExponential(2) : dash,
        q ? `${q.perplexity.toFixed(2)} (${q.referencePerplexity.toFixed(2)})` : dash,
      ];
    }),
    `Speed and quality on ${data.model}`,
    [
      ["", 1],
      ["Speed", 3],
      ["Quality vs the reference model", 4],
    ],
  );
  return `${memory}\n${speed}`;
}

function chartHtml(chart: ReportChart): string {
  const head = `<h3>${escapeHtml(chart.title)}</h3>\n<p class="desc">${inlineText(chart.description)}</p>`;
  if (chart.spec === null) {
    return `<figure class="chart" data-chart="${chart.id}" data-empty="true">\n${head}\n<p class="no-data">No data for this run.</p>\n</figure>`;
  }
  return `<figure class="chart" data-chart="${chart.id}">\n${head}\n<div class="vega" role="img" aria-label="${escapeHtml(chart.title)}"></div>\n</figure>`;
}

const STYLE = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d2127; --muted: #5d6673; --rule: #d9dde3;
  --card: #f7f8fa; --accent: #2f6db5; --warn: #9a3412;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #15181d; --fg: #e6e8eb; --muted: #9aa3ae; --rule: #2e343d; --card: #1c2026; --accent: #7fb0ea; --warn: #fdba74; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.5; font-size: 15px; overflow-wrap: anywhere; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 6px; }
header .meta { color: var(--muted); margin: 0; font-size: 0.9rem; }
h2 { font-size: 1.2rem; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1rem; margin: 0 0 2px; }
p.desc { color: var(--muted); margin: 0 0 12px; font-size: 0.88rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
figure.chart { margin: 0 0 20px; padding: 16px 18px; background: var(--card); border: 1px solid var(--rule); border-radius: 8px; overflow-x: auto; }
figure.chart[data-error] .vega::after { content: "This chart failed to render: " attr(data-error); color: var(--warn); }
.no-data { color: var(--muted); font-style: italic; margin: 4px 0; }
figure.chart .vega-embed { display: block; width: 100%; }
.table-wrap { overflow-x: auto; border: 1px solid var(--rule); border-radius: 8px; margin-bottom: 18px; }
caption { caption-side: top; text-align: left; padding: 8px 10px; font-weight: 600; font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.84rem; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--rule); }
thead th { background: var(--card); font-weight: 600; }
thead tr.groups th { text-align: center; border-bottom: none; padding-bottom: 0; color: var(--muted); font-size: 0.78rem; }
thead tr.groups th:empty { background: var(--card); }
th.text { text-align: left; }
tbody th.text { white-space: normal; min-width: 9em; max-width: 24em; }
tbody tr:last-child th, tbody tr:last-child td { border-bottom: none; }
tbody tr:hover { background: var(--card); }
ul.notes { padding-left: 1.2em; }
ul.notes li { margin: 2px 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.8rem; }
`;

/** Runs in the page: embeds every chart and marks its container rendered (or errored). */
const CLIENT = `
(function () {
  "use strict";
  var charts = JSON.parse(document.getElementById("report-charts").textContent);
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var jobs = charts.map(function (chart) {
    var figure = document.querySelector('[data-chart="' + chart.id + '"]');
    if (!figure || !chart.spec) return Promise.resolve();
    var target = figure.querySelector(".vega");
    var options = { actions: false, renderer: "svg", config: { background: "transparent" } };
    if (dark) options.theme = "dark";
    return vegaEmbed(target, chart.spec, options).then(
      function () { figure.setAttribute("data-rendered", "true"); },
      function (err) {
        figure.setAttribute("data-error", String((err && err.message) || err));
        console.error("report: chart " + chart.id + " failed to render:", err);
      }
    );
  });
  Promise.all(jobs).then(function () { document.body.setAttribute("data-report-ready", "true"); });
})();
`;

/** Blocks every fetch (images, fonts, XHR, frames): the report must work with no network. */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:";

/** Renders the report as one self-contained HTML page (no network needed to view it). */
export function renderHtmlReport(data: ReportData): string {
  const charts = buildCharts(data);
  const libs = chartLibraries();
  const section = (title: string, ids: readonly ChartId[]) =>
    `<section>\n<h2>${escapeHtml(title)}</h2>\n${charts
      .filter((c) => ids.includes(c.id))
      .map(chartHtml)
      .join("\n")}\n</section>`;
  const notes =
    data.notes.length > 0
      ? `<ul class="notes">\n${data.notes.map((n) => `<li>${inlineText(n)}</li>`).join("\n")}\n</ul>`
      : `<p class="no-data">No notes for this run.</p>`;
  const generator = libs.map((l) => `${l.name} ${l.version}`).join(", ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="tradeoffs compare (${escapeHtml(generator)})">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(data.title)}</h1>
<p class="meta">Measured on <code>${escapeHtml(data.model)}</code> · generated ${escapeHtml(data.generatedAt)} · ${data.rows.length} configuration${data.rows.length === 1 ? "" : "s"}</p>
</header>
${section("Memory", ["memory-infer", "memory-train", "memory-scale", "measured-vs-estimated"])}
${section("Sequence length", ["attention-memory", "attention-time", "kv-memory"])}
${section("Quality", ["quality"])}
${section("Training and serving", ["checkpoint", "serve"])}
<section>
<h2>Results</h2>
${resultsHtml(data)}
</section>
<section>
<h2>Notes</h2>
${notes}
</section>
<footer>Self-contained report: charts drawn in the page with ${escapeHtml(generator)}, inlined; no network is used.</footer>
</main>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script type="application/json" id="report-charts">${scriptJson(charts)}</script>
${libs.map((l) => `<script data-library="${l.name}">${l.code}</script>`).join("\n")}
<script>${CLIENT}</script>
</body>
</html>
`;
}
