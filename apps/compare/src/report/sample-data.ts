/**
 * TEST FIXTURE — NOT MEASURED DATA.
 *
 * A realistic-looking {@link ReportData} for the HTML report's tests and for previewing the report's
 * layout. The numbers are made up to have plausible shapes (Flash attention linear in sequence length,
 * GQA/MQA dividing the KV cache, checkpointing trading activations for extra forwards, paged KV
 * reserving close to what it uses); they were not produced by the estimator or by any measurement and
 * must never be shown as results.
 */
import type {
  CategoryBytes,
  CheckpointSchedule,
  ReportData,
  ReportRow,
  ServeTimeline,
  SweepPoint,
} from "./data.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

function cat(partial: Partial<Record<keyof CategoryBytes, number>>): CategoryBytes {
  return { weights: 0, adapters: 0, kv: 0, act: 0, grad: 0, optim: 0, tmp: 0, ...partial };
}

/** Scales every category (an "estimate" a few percent off a "measurement"). */
function skew(c: CategoryBytes, f: Partial<Record<keyof CategoryBytes, number>>): CategoryBytes {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) out[k] = Math.round(v * (f[k as keyof CategoryBytes] ?? 1));
  return out as CategoryBytes;
}

interface Shape {
  readonly config: string;
  /** Weight bytes relative to fp32. */
  readonly w: number;
  /** KV bytes relative to MHA fp32. */
  readonly kv: number;
  /** Attention activation bytes relative to standard attention. */
  readonly att: number;
  /** Training activations relative to keeping everything. */
  readonly act: number;
  readonly adapters?: number;
  readonly trains: boolean;
  readonly loss: number;
  readonly top1: number;
  readonly speed: number;
}

const SHAPES: readonly Shape[] = [
  { config: "Baseline", w: 1, kv: 1, att: 1, act: 1, trains: true, loss: 0, top1: 1, speed: 1 },
  { config: "Flash", w: 1, kv: 1, att: 0.12, act: 0.7, trains: true, loss: 0, top1: 1, speed: 0.92 },
  { config: "GQA", w: 0.94, kv: 0.25, att: 1, act: 1, trains: true, loss: 0.021, top1: 0.962, speed: 1.05 },
  { config: "MQA", w: 0.91, kv: 0.125, att: 1, act: 1, trains: true, loss: 0.048, top1: 0.931, speed: 1.08 },
  { config: "INT8", w: 0.27, kv: 1, att: 1, act: 1, trains: false, loss: 0.004, top1: 0.991, speed: 0.81 },
  { config: "NF4", w: 0.15, kv: 1, att: 1, act: 1, trains: false, loss: 0.031, top1: 0.954, speed: 0.64 },
  {
    config: "QLoRA",
    w: 0.15,
    kv: 1,
    att: 1,
    act: 1,
    adapters: 0.02,
    trains: true,
    loss: 0.029,
    top1: 0.957,
    speed: 0.6,
  },
  { config: "Ckpt[sqrt]", w: 1, kv: 1, att: 1, act: 0.31, trains: true, loss: 0, top1: 1, speed: 0.76 },
  { config: "MoE", w: 3.6, kv: 1, att: 1, act: 1.2, trains: true, loss: -0.012, top1: 0.948, speed: 0.88 },
  { config: "Paged", w: 1, kv: 0.62, att: 1, act: 1, trains: false, loss: 0, top1: 1, speed: 0.97 },
  {
    config: "MoE+Flash+GQA+INT8",
    w: 0.95,
    kv: 0.25,
    att: 0.12,
    act: 0.85,
    trains: false,
    loss: 0.03,
    top1: 0.94,
    speed: 0.74,
  },
  // Two long labels that share their start and end: the charts abbreviate both, uniquely.
  {
    config: "MoE[experts=8,top=2]+Flash[block=64]+GQA[kv=2]+INT8+Paged",
    w: 0.9,
    kv: 0.2,
    att: 0.12,
    act: 0.8,
    trains: false,
    loss: 0.031,
    top1: 0.938,
    speed: 0.7,
  },
  {
    config: "MoE[experts=8,top=2]+Flash[block=32]+GQA[kv=2]+INT8+Paged",
    w: 0.9,
    kv: 0.2,
    att: 0.12,
    act: 0.8,
    trains: false,
    loss: 0.032,
    top1: 0.937,
    speed: 0.69,
  },
  {
    config: "Flash+GQA+INT4",
    w: 0.14,
    kv: 0.25,
    att: 0.12,
    act: 0.7,
    trains: false,
    loss: 0.052,
    top1: 0.921,
    speed: 0.69,
  },
];

function row(s: Shape, i: number): ReportRow {
  const weights = Math.round(7.13 * MiB * s.w);
  const adapters = Math.round(7.13 * MiB * (s.adapters ?? 0));
  const inferMeasured = cat({
    weights,
    adapters,
    kv: Math.round(2 * MiB * s.kv),
    act: Math.round(0.75 * MiB * s.att),
    tmp: Math.round(0.31 * MiB),
  });
  const trainMeasured = cat({
    weights,
    adapters,
    act: Math.round(18.5 * MiB * s.act),
    grad: s.adapters ? adapters : weights,
    optim: 2 * (s.adapters ? adapters : weights),
    tmp: Math.round(1.2 * MiB),
  });
  const wobble = 1 + ((i % 5) - 2) * 0.015;
  return {
    config: s.config,
    infer: {
      measured: inferMeasured,
      estimated: skew(inferMeasured, { act: wobble, tmp: 0.8 }),
      prefillTokensPerSec: Math.round(5200 * s.speed),
      decodeMsPerToken: 3.1 / s.speed,
    },
    ...(s.trains
      ? {
          train: {
            measured: trainMeasured,
            estimated: skew(trainMeasured, { act: 2 - wobble, tmp: 0.9 }),
            stepMs: 184 / s.speed,
            batch: 4,
            seq: 128,
          },
        }
      : {}),
    quality: {
      lossDelta: s.loss,
      top1Agreement: s.top1,
      klDivergence: Math.abs(s.loss) * 0.9 + (1 - s.top1) * 0.05,
      perplexity: 14.2 * Math.exp(s.loss),
      referencePerplexity: 14.2,
    },
    scale: {
      model: "llama2-70b",
      estimated: cat({
        weights: Math.round(128.5 * GiB * Math.min(s.w, 1)),
        adapters: Math.round(128.5 * GiB * (s.adapters ?? 0)),
        kv: Math.round(10 * GiB * s.kv),
        act: Math.round(2.1 * GiB * s.att),
      }),
      totalBytes: Math.round(128.5 * GiB * Math.min(s.w, 1) + 10 * GiB * s.kv + 2.1 * GiB * s.att),
    },
  };
}

const SEQS = [256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

function attentionSweep(): SweepPoint[] {
  const out: SweepPoint[] = [];
  for (const seq of SEQS) {
    // Standard: the n×n score matrix per head (fp32, 32 heads); Flash: O(n) running statistics.
    out.push({ series: "Standard", seq, bytes: seq * seq * 4 * 32, source: "estimated" });
    out.push({ series: "Flash", seq, bytes: seq * 128 * 4 * 32 * 3, source: "estimated" });
    if (seq <= 2048) {
      out.push({
        series: "Standard",
        seq,
        bytes: Math.round(seq * seq * 4 * 32 * 1.03),
        source: "measured",
        timeMs: (seq / 1024) ** 2 * 41,
      });
      out.push({
        series: "Flash",
        seq,
        bytes: Math.round(seq * 128 * 4 * 32 * 3.1),
        source: "measured",
        timeMs: (seq / 1024) ** 2 * 47,
      });
    }
  }
  return out;
}

function kvSweep(): SweepPoint[] {
  const out: SweepPoint[] = [];
  const groups = [
    ["MHA", 8],
    ["GQA", 2],
    ["MQA", 1],
  ] as const;
  for (const seq of SEQS) {
    for (const [series, kvHeads] of groups) {
      // 4 layers × K and V × kvHeads × head dim 64 × fp32 × batch 4.
      const bytes = 4 * 2 * kvHeads * 64 * 4 * 4 * seq;
      out.push({ series, seq, bytes, source: "estimated" });
      if (seq <= 2048) out.push({ series, seq, bytes: Math.round(bytes * 1.02), source: "measured" });
    }
  }
  return out;
}

/** A schedule of 8 layers from its segments (runs of consecutive layers). */
function schedule(policy: string, segments: number[][], measured: number | undefined): CheckpointSchedule {
  const recomputed = segments.flat().length;
  return {
    policy,
    layers: 8,
    segments,
    batch: 4,
    seq: 128,
    predictedActBytes: Math.round((1.1 + 2.2 * (8 - recomputed + segments.length)) * MiB),
    ...(measured !== undefined ? { measuredActBytes: Math.round(measured * MiB) } : {}),
    extraForward: recomputed / 8,
  };
}

function serveTimeline(config: string, reserveFactor: number, blockRounding: boolean): ServeTimeline {
  const steps: { step: number; kvBytesUsed: number; kvBytesReserved: number; running: number }[] = [];
  for (let step = 0; step <= 64; step++) {
    const running = Math.max(1, Math.min(8, Math.round(8 * Math.sin((Math.PI * step) / 64) + 1)));
    const used = Math.round(running * (96 + step * 6) * 1024);
    const reserved = blockRounding
      ? Math.ceil(used / (16 * 1024)) * 16 * 1024
      : Math.round(running * 2048 * 1024 * reserveFactor);
    steps.push({ step, kvBytesUsed: used, kvBytesReserved: reserved, running });
  }
  return { config, steps };
}

/** Test fixture: a full report, every chart with data. */
export const SAMPLE_REPORT_DATA: ReportData = {
  title: "tradeoffs compare — sample report (test fixture, not measured)",
  generatedAt: "2026-11-26T12:00:00.000Z",
  model: "small",
  rows: SHAPES.map(row),
  attentionSweep: attentionSweep(),
  kvSweep: kvSweep(),
  checkpoint: [
    schedule("None", [], 18.4),
    schedule(
      "Ckpt[sqrt]",
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7],
      ],
      7.9,
    ),
    schedule(
      "Ckpt[every=2]",
      [
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
      ],
      undefined,
    ),
    schedule("Ckpt[all]", [[0], [1], [2], [3], [4], [5], [6], [7]], 1.3),
  ],
  serve: [serveTimeline("Baseline", 1, false), serveTimeline("Paged", 1, true)],
  notes: [
    "TEST FIXTURE: these numbers are made up for the report's tests; they are not measurements.",
    "Measured on `small` with batch 4, prompt 128, generate 32; projected to llama2-70b.",
    "Estimated totals exclude allocator fragmentation.",
  ],
};

/** Test fixture: a report with no sweeps, schedules, serve timelines or quality (the empty-chart notes). */
export const SPARSE_REPORT_DATA: ReportData = {
  title: "tradeoffs compare — sparse sample (test fixture)",
  generatedAt: "2026-11-26T12:00:00.000Z",
  model: "small",
  rows: SAMPLE_REPORT_DATA.rows
    .slice(0, 2)
    .map((r) => ({ config: r.config, ...(r.infer ? { infer: r.infer } : {}) })),
  attentionSweep: [],
  kvSweep: [],
  checkpoint: [],
  serve: [],
  notes: [],
};
