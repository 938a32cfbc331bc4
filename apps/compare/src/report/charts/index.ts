/**
 * The report's chart list: every chart id in page order, with its title, description and
 * vega-lite spec built from the report data. Each chart's spec lives in its own module beside this one.
 */
import type { VegaLiteSpec } from "../chart-kit.js";
import type { ReportData } from "../data.js";
import { type ConfigLabels, configLabels } from "../labels.js";
import { distinct } from "../units.js";
import { attentionTimeSpec, isAttentionRow } from "./attention-time.js";
import { checkpointSpec } from "./checkpoint.js";
import { measuredVsEstimatedSpec } from "./measured-vs-estimated.js";
import { memorySpec } from "./memory.js";
import { qualitySpec } from "./quality.js";
import { scaleSpec } from "./scale.js";
import { serveSpec } from "./serve.js";
import { sweepSpec } from "./sweep.js";

export interface ReportChart {
  /** Stable id, used as the container's `data-chart` attribute. */
  readonly id: ChartId;
  readonly title: string;
  readonly description: string;
  /** `null` when this run produced no data for the chart (the page shows a short note instead). */
  readonly spec: VegaLiteSpec | null;
  /** The note shown instead of a chart without data, saying how to get the data where that is known. */
  readonly empty?: string;
  /** Abbreviated configuration labels this chart shows, with their full names (a key table under it). */
  readonly keys?: ConfigLabels["keys"];
}

/** ` A and B run the same schedule on N layers.` for policies whose segments coincide, else "". */
function sameSchedules(schedules: ReportData["checkpoint"]): string {
  const groups = new Map<string, string[]>();
  for (const s of schedules) {
    const key = `${s.layers}:${JSON.stringify(s.segments)}`;
    groups.set(key, [...(groups.get(key) ?? []), s.policy]);
  }
  return [...groups.entries()]
    .filter(([, p]) => p.length > 1)
    .map(([key, p]) => ` ${p.join(" and ")} run the same schedule on ${key.split(":")[0]} layers.`)
    .join("");
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

/** The vega-lite specs of every chart, built from the data (`spec: null` where there is no data). */
export function buildCharts(data: ReportData): ReportChart[] {
  const scaleModels = distinct(data.rows.flatMap((r) => (r.scale ? [r.scale.model] : [])));
  // Charts show short, unique configuration labels; each abbreviated one is keyed under its chart.
  const labels = configLabels(data.rows.map((r) => r.config));
  const rows = data.rows.map((r) => ({ ...r, config: labels.short(r.config) }));
  const keysOf = (shown: readonly string[]) => labels.keys.filter((k) => shown.includes(k.short));
  const charts: Record<ChartId, Omit<ReportChart, "id">> = {
    "memory-infer": {
      title: "Memory by category — inference",
      description: `Peak bytes per ledger category on \`${data.model}\`: for each configuration the upper bar is measured, the lower (faded) bar is the estimator's prediction.`,
      spec: memorySpec(rows, "infer"),
    },
    "memory-train": {
      title: "Memory by category — training",
      description: `Peak bytes per ledger category during a training step on \`${data.model}\`: measured (upper) vs estimated (lower, faded).`,
      spec: memorySpec(rows, "train"),
    },
    "memory-scale": {
      title: `Projected to ${scaleModels.length > 0 ? scaleModels.join(", ") : "a published model"}`,
      description: "The estimator's prediction for the same configurations at the scale model's size.",
      spec: scaleSpec(rows),
    },
    "measured-vs-estimated": {
      title: "Measured vs estimated totals",
      description:
        "Each point is one configuration and workload; points on the dashed line are predicted exactly.",
      spec: measuredVsEstimatedSpec(rows),
    },
    "attention-memory": {
      title: "Attention memory vs sequence length",
      description:
        "Standard attention materialises the score matrix (quadratic); Flash attention keeps running statistics (linear).",
      spec: sweepSpec(data.attentionSweep, "Attention memory", ["Standard", "Flash"]),
    },
    "attention-time": {
      title: "Training step time: standard vs Flash attention",
      description:
        "Measured wall time of one whole training step (forward, backward and optimizer; the speed table's train ms/step) with standard and with Flash attention. Attention is one part of the step; it is not timed on its own.",
      spec: attentionTimeSpec(rows),
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
      spec: qualitySpec(rows),
    },
    checkpoint: {
      title: "Checkpoint schedules",
      description: `Each policy's schedule for the model's layers (a segment keeps only its first layer's input and recomputes its layers in backward), with the activation bytes predicted and measured for the same training step.${sameSchedules(data.checkpoint)}`,
      spec: checkpointSpec(data),
    },
    serve: {
      title: "Serve timelines",
      description:
        "Per configuration: KV cache bytes in use (solid, shaded) vs reserved (dashed), and running sequences, over scheduler steps.",
      spec: serveSpec(data),
      empty:
        "No serve rows in this run: the default workloads are infer, train and quality. Run with `--workload serve` (or `--workload all`) to measure the serve timelines.",
    },
  };
  const shownBy: Partial<Record<ChartId, readonly string[]>> = {
    "memory-infer": rows.filter((r) => r.infer).map((r) => r.config),
    "memory-train": rows.filter((r) => r.train).map((r) => r.config),
    "memory-scale": rows.filter((r) => r.scale).map((r) => r.config),
    "measured-vs-estimated": rows.filter((r) => r.infer || r.train).map((r) => r.config),
    "attention-time": rows.filter((r) => r.train && isAttentionRow(r.config)).map((r) => r.config),
    quality: rows.filter((r) => r.quality).map((r) => r.config),
  };
  return CHART_IDS.map((id) => {
    const keys = charts[id].spec ? keysOf(shownBy[id] ?? []) : [];
    return { id, ...charts[id], ...(keys.length > 0 ? { keys } : {}) };
  });
}
