/**
 * The report's chart list: every chart id in page order, with its title, description and
 * vega-lite spec built from the report data. Each chart's spec lives in its own module beside this one.
 */
import type { VegaLiteSpec } from "../chart-kit.js";
import type { ReportData } from "../data.js";
import { distinct } from "../units.js";
import { attentionTimeSpec } from "./attention-time.js";
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
