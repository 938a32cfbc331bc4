/**
 * Time cells with their spread: every measured time is the median of interleaved repeated runs
 * (`@tradeoffs/model`'s `interleaved` and `mergeInfer`/`mergeTrain`), printed with its min–max so a
 * reader sees how much to trust it, and a note naming the figures whose spread is wide.
 */
import {
  BUSY_CORES,
  type InferResult,
  isUnstable,
  loadText,
  type MachineLoad,
  type Spread,
  spreadOf,
  type TrainResult,
} from "@tradeoffs/model";
import { ms } from "./format.js";

import type { CompareRow } from "./run.js";

/** Prefill tokens/s of each run (median first). */
export function prefillSpread(r: InferResult): Spread {
  const runs = r.samples?.prefillMs ?? [r.prefillMs];
  return spreadOf(runs.map((t) => (r.batch * r.prompt) / (t / 1000)));
}

/** Decode ms per token (per sequence) of each run. */
export function decodeSpread(r: InferResult): Spread {
  return spreadOf((r.samples?.decodeMsPerStep ?? [r.decodeMsPerStep]).map((t) => t / r.batch));
}

/** Train ms per step of each run. */
export function trainSpread(r: TrainResult): Spread {
  return spreadOf(r.samples?.stepMs ?? [r.stepMs]);
}

/**
 * `2257 (2102–2391)`: the median with its range; compact (the 120-column layout): `2257 ±6%`, half
 * the range relative to the median. The median alone for one sample.
 */
function withRange(s: Spread, fmt: (n: number) => string, compact: boolean): string {
  if (s.n === 0) return "—";
  if (s.n === 1) return fmt(s.median);
  if (compact) return `${fmt(s.median)} ±${Math.round((50 * (s.max - s.min)) / s.median)}%`;
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

const rate = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "—");

export const prefillCell = (r: InferResult | undefined, compact = false) =>
  r ? withRange(prefillSpread(r), rate, compact) : "—";
export const decodeCell = (r: InferResult | undefined, compact = false) =>
  r ? withRange(decodeSpread(r), ms, compact) : "—";
export const trainCell = (r: TrainResult | undefined, compact = false) =>
  r ? withRange(trainSpread(r), ms, compact) : "—";

/**
 * How the times were taken (`warmup`: discarded runs of each configuration before the timed ones),
 * how busy the machine was while they were (`load`, when measured: other processes' CPU time), and
 * which are too noisy to read closely.
 */
export function timingNotes(rows: readonly CompareRow[], load?: MachineLoad, warmup = 1): string[] {
  const runs = rows.flatMap((r) => [r.infer?.samples?.prefillMs.length, r.train?.samples?.stepMs.length]);
  const n = Math.max(0, ...runs.filter((x): x is number => x !== undefined));
  const notes: string[] = [];
  const after =
    warmup === 0 ? "with no warm-up" : `after ${warmup === 1 ? "a warm-up" : `${warmup} warm-ups`} of each`;
  if (n > 1) {
    notes.push(
      `times: median of ${n} runs per configuration, interleaved across configurations ${after}; spread as (min–max), or ±half the range in the 120-column layout`,
    );
  }
  if (warmup === 0 && n > 0) {
    notes.push(
      "no warm-up (--warmup 0): the first configuration's first run includes start-up (compiling, the WASM helper thread)",
    );
  }
  if (load && n > 0) notes.push(`machine: ${loadText(load)}`);
  const wide: string[] = [];
  for (const r of rows) {
    if (r.infer && (isUnstable(prefillSpread(r.infer)) || isUnstable(decodeSpread(r.infer))))
      wide.push(`${r.config} (infer)`);
    if (r.train && isUnstable(trainSpread(r.train))) wide.push(`${r.config} (train)`);
  }
  if (wide.length > 0) {
    notes.push(`wide spread (max − min above 25% of the median): ${wide.join(", ")} — ${wideCause(load)}`);
  }
  return notes;
}

/** What a wide spread says, given how busy the machine was (unknown: both causes). */
function wideCause(load: MachineLoad | undefined): string {
  if (load === undefined)
    return "a busy machine or a noisy workload; rerun when the machine is quiet, or raise --repeats";
  if (load.otherCores >= BUSY_CORES)
    return "the machine was busy (above); rerun when it is quiet, or raise --repeats";
  return "no other process here was busy (above), so the runs vary by themselves (short timed sections, collection pauses) or by a shared host this system cannot see: raise --repeats for steadier medians";
}
