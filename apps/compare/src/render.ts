/**
 * Turn compare rows and estimates into the full ("wide") tables and JSON. Each table also carries its
 * raw numbers for CSV. The terminal's default narrow layout is in terminal.ts.
 */

import type { Estimate, MachineLoad, Spread } from "@tradeoffs/model";
import { CATEGORIES } from "@tradeoffs/model";
import { bytes, count, ms, pair, percent } from "./format.js";
import type { CompareRow } from "./run.js";
import type { CsvTable, Table } from "./table.js";
import {
  decodeCell,
  decodeSpread,
  prefillCell,
  prefillSpread,
  timingNotes,
  trainCell,
  trainSpread,
} from "./timing.js";

/** Peak bytes per category: the workload that uses each category most. */
export function peaks(row: CompareRow): { m: Record<string, number>; e: Record<string, number> } | null {
  const runs = [row.infer, row.train].filter((r) => r !== undefined);
  if (runs.length === 0) return null;
  const m: Record<string, number> = {};
  const e: Record<string, number> = {};
  for (const c of CATEGORIES) {
    const best = runs.reduce((a, b) => (b.peak[c] > a.peak[c] ? b : a));
    m[c] = best.peak[c];
    e[c] = best.estimate.bytes[c];
  }
  return { m, e };
}

/** `infer B=1 prompt=64 generate=16; train B=4 seq=64 steps=2`: the workloads the rows ran. */
export function workloadText(rows: readonly CompareRow[]): string {
  const first = rows.find((r) => r.infer || r.train);
  return [
    first?.infer
      ? `infer B=${first.infer.batch} prompt=${first.infer.prompt} generate=${first.infer.generate}`
      : "",
    first?.train ? `train B=${first.train.batch} seq=${first.train.seq} steps=${first.train.steps}` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

/** The full measured table: memory pairs per category, speed and quality, canonical labels. */
/** A time's min and max for the CSV (empty cells when the workload did not run). */
const range = (s: Spread | undefined) => [s?.min, s?.max];

export function compareTable(
  rows: readonly CompareRow[],
  model: string,
  load?: MachineLoad,
  warmup = 1,
): Table {
  const rowPeaks = rows.map(peaks);
  const used = CATEGORIES.filter((c) => rowPeaks.some((p) => (p?.m[c] ?? 0) > 0 || (p?.e[c] ?? 0) > 0));
  const headers = [
    "configuration",
    ...used.map((c) => `${c} (meas / est)`),
    "prefill tok/s",
    "decode ms/tok",
    "train ms/step",
    "loss Δ (nats/B)",
    "top-1 agree",
    "KL (nats)",
  ];
  const body = rows.map((r, i) => {
    if (r.error) return [r.config, `error: ${r.error}`];
    const p = rowPeaks[i];
    return [
      r.config,
      ...used.map((c) => (p ? pair(p.m[c]!, p.e[c]!) : "—")),
      prefillCell(r.infer),
      decodeCell(r.infer),
      trainCell(r.train),
      r.quality ? (r.quality.loss - r.quality.referenceLoss).toFixed(4) : "—",
      r.quality ? percent(r.quality.top1Agreement) : "—",
      r.quality ? r.quality.klDivergence.toExponential(2) : "—",
    ];
  });
  const csv: CsvTable = {
    name: "measured",
    headers: [
      "configuration",
      "error",
      ...CATEGORIES.flatMap((c) => [`${c} measured (bytes)`, `${c} estimated (bytes)`]),
      "prefill (tokens/s)",
      "prefill min (tokens/s)",
      "prefill max (tokens/s)",
      "decode (ms/token)",
      "decode min (ms/token)",
      "decode max (ms/token)",
      "train step (ms)",
      "train step min (ms)",
      "train step max (ms)",
      "loss delta (nats/B)",
      "top-1 agreement (ratio)",
      "KL divergence (nats)",
    ],
    rows: rows.map((r, i) => {
      const p = rowPeaks[i];
      return [
        r.config,
        r.error,
        ...CATEGORIES.flatMap((c) => [p?.m[c], p?.e[c]]),
        r.infer?.prefillTokensPerSec,
        ...range(r.infer && prefillSpread(r.infer)),
        r.infer ? r.infer.decodeMsPerStep / r.infer.batch : undefined,
        ...range(r.infer && decodeSpread(r.infer)),
        r.train?.stepMs,
        ...range(r.train && trainSpread(r.train)),
        r.quality ? r.quality.loss - r.quality.referenceLoss : undefined,
        r.quality?.top1Agreement,
        r.quality?.klDivergence,
      ];
    }),
  };
  return {
    csv,
    title: `Measured on ${model} (${workloadText(rows)}); memory = peak bytes in the ledger / the estimator's prediction ('=' when equal)`,
    headers,
    rows: body,
    notes: [
      ...timingNotes(rows, load, warmup),
      "quality: against the FP32 Baseline on the same weights and held-out text; loss Δ > 0 is worse",
    ],
  };
}

export function estimateTable(estimates: readonly Estimate[]): Table {
  const e0 = estimates[0];
  const w = e0?.workload;
  return {
    title: e0
      ? `Estimate for ${e0.model}: ${w?.kind} batch=${w?.batch} seq=${w?.seq}${w?.kind === "infer" ? ` generate=${w?.generate}` : ""}`
      : "Estimate",
    headers: ["configuration", "params", "active", ...CATEGORIES, "total"],
    rows: estimates.map((e) => [
      e.config,
      count(e.params.total),
      count(e.params.active),
      ...CATEGORIES.map((c) => bytes(e.bytes[c])),
      bytes(e.totalBytes),
    ]),
    notes: e0 ? [...new Set(estimates.flatMap((e) => e.notes))] : [],
    csv: {
      name: "estimate",
      headers: [
        "configuration",
        "params (count)",
        "active params (count)",
        ...CATEGORIES.map((c) => `${c} (bytes)`),
        "total (bytes)",
      ],
      rows: estimates.map((e) => [
        e.config,
        e.params.total,
        e.params.active,
        ...CATEGORIES.map((c) => e.bytes[c]),
        e.totalBytes,
      ]),
    },
  };
}

/** The JSON for `estimate --json`: stable field names (documented in the README). */
export function estimateJson(estimates: readonly Estimate[]) {
  return {
    model: estimates[0]?.model,
    workload: estimates[0]?.workload,
    rows: estimates.map((e) => ({
      config: e.config,
      estimate: {
        params: e.params,
        bytes: e.bytes,
        totalBytes: e.totalBytes,
        flops: e.flops,
        bytesMoved: e.bytesMoved,
        exact: e.exact,
        notes: e.notes,
      },
    })),
  };
}

/** The JSON for measured runs (estimates included beside each measurement). */
export function compareJson(rows: readonly CompareRow[], model: string): Record<string, unknown> {
  const strip = <T extends { estimate: Estimate }>(r: T | undefined) =>
    r
      ? {
          ...r,
          estimate: {
            params: r.estimate.params,
            bytes: r.estimate.bytes,
            flops: r.estimate.flops,
            notes: r.estimate.notes,
          },
        }
      : undefined;
  return {
    model,
    rows: rows.map((r) => ({
      config: r.config,
      error: r.error,
      infer: strip(r.infer),
      train: strip(r.train),
      quality: strip(r.quality),
      serve: r.serve ? { ...strip(r.serve), timeline: undefined } : undefined,
    })),
  };
}

/** The serve comparison: same trace, same KV budget. */
export function serveTable(rows: readonly CompareRow[]): Table {
  const runs = rows.filter((r) => r.serve);
  const first = runs[0]?.serve;
  return {
    title: first
      ? `serve on ${first.estimate.model}: ${first.metrics.requests} requests, KV budget ${bytes(first.budgetBytes)}, same seeded trace (measured)`
      : "serve",
    headers: [
      "configuration",
      "KV memory",
      "waste (meas / est)",
      "int. frag.",
      "peak seqs (meas / est)",
      "mean seqs",
      "tok/s",
      "req/s",
      "TTFT p50/p99 ms",
      "TPOT p50/p99 ms",
      "preemptions",
    ],
    rows: rows.map((r) => {
      if (r.error) return [r.config, `error: ${r.error}`];
      const s = r.serve;
      if (!s) return [r.config, "—"];
      const m = s.metrics;
      return [
        r.config,
        s.memory,
        `${m.wastePercent.toFixed(1)}% / ${s.predicted.wastePercent.toFixed(1)}%`,
        `${m.internalFragmentationPercent.toFixed(1)}%`,
        `${m.peakSequences} / ${s.predicted.concurrentSequences}`,
        m.meanSequences.toFixed(1),
        m.tokensPerSecond.toFixed(0),
        m.requestsPerSecond.toFixed(2),
        `${ms(m.ttft.p50 * 1000)} / ${ms(m.ttft.p99 * 1000)}`,
        `${ms(m.tpot.p50 * 1000)} / ${ms(m.tpot.p99 * 1000)}`,
        String(m.preemptions.recompute + m.preemptions.swap),
      ];
    }),
    csv: {
      name: "serve",
      headers: [
        "configuration",
        "error",
        "kv memory (layout)",
        "waste measured (%)",
        "waste estimated (%)",
        "internal fragmentation (%)",
        "peak sequences measured (count)",
        "peak sequences estimated (count)",
        "mean sequences (count)",
        "throughput (tokens/s)",
        "throughput (requests/s)",
        "TTFT p50 (ms)",
        "TTFT p99 (ms)",
        "TPOT p50 (ms)",
        "TPOT p99 (ms)",
        "preemptions (count)",
        "KV budget (bytes)",
      ],
      rows: rows.map((r) => {
        const s = r.serve;
        const m = s?.metrics;
        return [
          r.config,
          r.error,
          s?.memory,
          m?.wastePercent,
          s?.predicted.wastePercent,
          m?.internalFragmentationPercent,
          m?.peakSequences,
          s?.predicted.concurrentSequences,
          m?.meanSequences,
          m?.tokensPerSecond,
          m?.requestsPerSecond,
          m ? m.ttft.p50 * 1000 : undefined,
          m ? m.ttft.p99 * 1000 : undefined,
          m ? m.tpot.p50 * 1000 : undefined,
          m ? m.tpot.p99 * 1000 : undefined,
          m ? m.preemptions.recompute + m.preemptions.swap : undefined,
          s?.budgetBytes,
        ];
      }),
    },
    notes: [
      "waste = 1 − bytes holding real tokens / bytes reserved for running sequences (time-weighted); times are the real model's step times (wall clock)",
      "est: predicted from the trace alone (live tokens p + o/2 per request vs the reservation: p + max new tokens contiguous, p + o/2 + block/2 paged)",
    ],
  };
}

export interface ScaleRow {
  readonly config: string;
  readonly infer: Estimate;
  readonly train: Estimate;
  readonly decode: { readonly ms: number; readonly bound: string };
  /** Fewest devices that fit (0: none does), from the multi-device planner. */
  readonly devices: { readonly infer: number; readonly train: number };
  /** The planner's layout for those devices (`tp2`, `tp8·pp2 ZeRO-3`). */
  readonly layout: { readonly infer: string; readonly train: string };
  readonly hardware: string;
  readonly error?: string;
}

/** `2 (tp2)`, or `none fits` when no layout of any device count fits. */
export function devicesText(n: number, layout: string): string {
  return n > 0 ? `${n} (${layout})` : "none fits";
}

/** Each configuration projected to a published model by the estimator and the multi-device planner. */
export function scaleTable(rows: readonly ScaleRow[], model: string, seq: number): Table {
  return {
    title: `Projected to ${model} (estimate): inference batch 1 × ${seq} tokens, training batch 1 × ${seq}; fewest ${rows[0]?.hardware ?? "—"} devices that fit, by the multi-device planner`,
    headers: [
      "configuration",
      "params",
      "active",
      "weights",
      "kv",
      "infer total",
      "train total",
      "decode ms/tok",
      "bound",
      "devices infer",
      "devices train",
    ],
    rows: rows.map((r) =>
      r.error
        ? [r.config, `n/a: ${r.error}`]
        : [
            r.config,
            count(r.infer.params.total),
            count(r.infer.params.active),
            bytes(r.infer.bytes.weights),
            bytes(r.infer.bytes.kv),
            bytes(r.infer.totalBytes),
            bytes(r.train.totalBytes),
            ms(r.decode.ms),
            r.decode.bound,
            devicesText(r.devices.infer, r.layout.infer),
            devicesText(r.devices.train, r.layout.train),
          ],
    ),
    csv: {
      name: "projected",
      headers: [
        "configuration",
        "error",
        "model",
        "params (count)",
        "active params (count)",
        "weights (bytes)",
        "kv (bytes)",
        "infer total (bytes)",
        "train total (bytes)",
        "decode roofline (ms/token)",
        "bound",
        "devices infer (count)",
        "devices train (count)",
        "layout infer",
        "layout train",
        "hardware",
      ],
      rows: rows.map((r) =>
        r.error
          ? [r.config, r.error, model]
          : [
              r.config,
              undefined,
              model,
              r.infer.params.total,
              r.infer.params.active,
              r.infer.bytes.weights,
              r.infer.bytes.kv,
              r.infer.totalBytes,
              r.train.totalBytes,
              r.decode.ms,
              r.decode.bound,
              r.devices.infer,
              r.devices.train,
              r.layout.infer,
              r.layout.train,
              r.hardware,
            ],
      ),
    },
    notes: [
      "estimates use fp16 activations and KV, and the published architecture in every slot the configuration leaves empty",
      "devices: the fewest that fit with the planner's best layout (per-device bytes plus framework overhead; `pnpm compare plan` shows the breakdown); decode time of that layout",
    ],
  };
}
