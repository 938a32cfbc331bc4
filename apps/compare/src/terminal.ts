/**
 * The terminal's default layout: tables that fit 120 columns. Memory is grouped as a measured row and
 * an estimated row per configuration ("=" where the estimate is exact), speed and quality sit in their
 * own table, and columns with no value for the chosen workload are dropped. `--wide` prints render.ts's
 * full tables instead; Markdown, CSV and JSON always carry everything.
 */

import type { MachineLoad } from "@tradeoffs/model";
import { CATEGORIES } from "@tradeoffs/model";
import { bytes, percent } from "./format.js";
import { compareTable, peaks, type ScaleRow, scaleTable, serveTable, workloadText } from "./render.js";
import type { CompareRow } from "./run.js";
import type { Table } from "./table.js";
import { decodeCell, prefillCell, timingNotes, trainCell } from "./timing.js";

const DASH = "—";

/** Removes the columns (after the first `keep`) whose every row cell is empty or "—". */
export function dropEmptyColumns(t: Table, keep = 1): Table {
  const filled = t.headers.map(
    (_, i) =>
      i < keep ||
      t.rows.some((r) => r.length === t.headers.length && r[i] !== undefined && r[i] !== DASH && r[i] !== ""),
  );
  // Rows shorter than the header (an error line) keep their cells as they are.
  const pick = <T>(cells: readonly T[]) => cells.filter((_, i) => filled[i] ?? true);
  return {
    ...t,
    headers: pick(t.headers),
    rows: t.rows.map((r) => (r.length < t.headers.length ? r : pick(r))),
    ...(t.align ? { align: pick(t.align) } : {}),
  };
}

/** Display names: the configuration as typed where given, else its canonical label. */
function nameOf(rows: readonly { config: string }[], names: readonly string[] | undefined) {
  return (i: number) => names?.[i] ?? rows[i]?.config ?? "";
}

/** Memory by category: one measured and one estimated line per configuration. */
export function memoryTable(rows: readonly CompareRow[], model: string, names?: readonly string[]): Table {
  const name = nameOf(rows, names);
  const rowPeaks = rows.map(peaks);
  const used = CATEGORIES.filter((c) => rowPeaks.some((p) => (p?.m[c] ?? 0) > 0 || (p?.e[c] ?? 0) > 0));
  const body: string[][] = [];
  rows.forEach((r, i) => {
    const p = rowPeaks[i];
    if (r.error) body.push([name(i), "error (below)"]);
    else if (!p) body.push([name(i), "—"]);
    else {
      body.push([name(i), "measured", ...used.map((c) => bytes(p.m[c]!))]);
      body.push([
        "",
        "estimated",
        ...used.map((c) => (bytes(p.e[c]!) === bytes(p.m[c]!) ? "=" : bytes(p.e[c]!))),
      ]);
    }
  });
  return {
    title: `Memory on ${model}: peak bytes per ledger category, measured and estimated ('=': the same)`,
    headers: ["configuration", "source", ...used],
    rows: body,
    align: ["left", "left", ...used.map(() => "right" as const)],
    notes: [
      workloadText(rows),
      ...rows.flatMap((r, i) => (r.error ? [`${name(i)}: error: ${r.error}`] : [])),
    ].filter(Boolean),
  };
}

/** Speed and quality, one line per configuration; columns the workloads did not fill are dropped. */
export function speedTable(
  rows: readonly CompareRow[],
  model: string,
  names?: readonly string[],
  load?: MachineLoad,
  warmup = 1,
): Table {
  const name = nameOf(rows, names);
  return dropEmptyColumns({
    title: `Speed and quality on ${model} (measured)`,
    headers: [
      "configuration",
      "prefill tok/s",
      "decode ms/tok",
      "train ms/step",
      "loss Δ (nats/B)",
      "top-1 agree",
      "KL (nats)",
    ],
    rows: rows.map((r, i) =>
      r.error
        ? [name(i), "error"]
        : [
            name(i),
            prefillCell(r.infer, true),
            decodeCell(r.infer, true),
            trainCell(r.train, true),
            r.quality ? (r.quality.loss - r.quality.referenceLoss).toFixed(4) : DASH,
            r.quality ? percent(r.quality.top1Agreement) : DASH,
            r.quality ? r.quality.klDivergence.toExponential(2) : DASH,
          ],
    ),
    notes: [
      ...timingNotes(rows, load, warmup),
      ...(rows.some((r) => r.quality)
        ? ["quality: against the FP32 Baseline on the same weights and held-out text; loss Δ > 0 is worse"]
        : []),
    ],
  });
}

/** The serve comparison with short headers (units in the title). */
export function serveTableNarrow(rows: readonly CompareRow[], names?: readonly string[]): Table {
  const wide = serveTable(rows);
  const name = nameOf(rows, names);
  return {
    ...wide,
    title: `${wide.title}; times in ms`,
    headers: [
      "configuration",
      "KV",
      "waste m / e",
      "frag.",
      "seqs m / e",
      "mean",
      "tok/s",
      "req/s",
      "TTFT p50/p99",
      "TPOT p50/p99",
      "preempt",
    ],
    rows: wide.rows.map((r, i) => [name(i), ...r.slice(1)]),
    notes: [
      "waste: 1 − bytes holding real tokens / bytes reserved (time-weighted); m / e: measured / estimated from the trace",
      "seqs: peak running sequences; TTFT, TPOT: time to first token, per output token (wall clock, p50 / p99)",
    ],
  };
}

/** The projection with short headers (hardware in the title). */
export function scaleTableNarrow(
  rows: readonly ScaleRow[],
  model: string,
  seq: number,
  names?: readonly string[],
): Table {
  const wide = scaleTable(rows, model, seq);
  const name = nameOf(rows, names);
  const hw = rows[0]?.hardware ?? DASH;
  return {
    ...wide,
    title: `Projected to ${model} (estimate): batch 1 × ${seq} tokens; fewest ${hw} devices that fit (planner)`,
    // The wide headers with its two device columns folded into one.
    headers: [...wide.headers.slice(0, -2), "devices i / t"],
    rows: wide.rows.map((r, i) => {
      const s = rows[i];
      return r.length < wide.headers.length || !s
        ? [name(i), ...r.slice(1)]
        : [name(i), ...r.slice(1, -2), `${s.devices.infer} / ${s.devices.train}`];
    }),
  };
}

export interface LayoutOptions {
  /** Every column in one table per comparison, canonical labels (the Markdown layout). */
  readonly wide: boolean;
  /** The configurations as typed, one per row (the narrow layout shows these). */
  readonly names?: readonly string[];
  /** Other processes' use of the machine while the rows were measured (a note under the times). */
  readonly load?: MachineLoad | undefined;
  /** Discarded runs of each configuration before the timed ones (a note under the times); default 1. */
  readonly warmup?: number | undefined;
}

/** The measured tables for a run, in the chosen layout. */
export function measuredTables(rows: readonly CompareRow[], model: string, o: LayoutOptions): Table[] {
  return o.wide
    ? [compareTable(rows, model, o.load, o.warmup)]
    : [memoryTable(rows, model, o.names), speedTable(rows, model, o.names, o.load, o.warmup)];
}
