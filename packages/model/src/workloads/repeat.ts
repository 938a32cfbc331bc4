/**
 * Repeated, order-free timing (what careful benchmark harnesses do): a warm-up run of every item,
 * then rounds that interleave the items (A B C, B C A, …) so drift on a shared machine hits all alike,
 * and each time reported as the median of its samples with the spread beside it. Bytes and results
 * are deterministic and taken from the first sample. Not here: what is timed (infer.ts, train.ts).
 */
import { ValueError } from "@tradeoffs/core-tensor";
import { median } from "./common.js";
import type { InferResult } from "./infer.js";
import type { TrainResult } from "./train.js";

/** A time's median with its range and sample count. */
export interface Spread {
  /** Median of the samples. */
  readonly median: number;
  /** Smallest sample. */
  readonly min: number;
  /** Largest sample. */
  readonly max: number;
  /** Number of samples. */
  readonly n: number;
}

/** Relative spread ((max − min) / median) above which a figure is flagged as unstable. */
export const UNSTABLE_SPREAD = 0.25;

/** The median, range and count of samples. */
export function spreadOf(samples: readonly number[]): Spread {
  const finite = samples.filter(Number.isFinite);
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), n: finite.length };
}

/** Whether a spread is wide enough that the median should be read with care. */
export function isUnstable(s: Spread): boolean {
  return s.n > 1 && (s.max - s.min) / s.median > UNSTABLE_SPREAD;
}

/**
 * Run `warmup` discarded runs of every item, then `repeats` rounds over all items, each round
 * rotated by one; returns each item's samples in round order.
 */
export function interleaved<I, R>(
  items: readonly I[],
  options: { readonly repeats: number; readonly warmup?: number },
  run: (item: I, round: number) => R,
): R[][] {
  const { repeats, warmup = 1 } = options;
  if (!(Number.isInteger(repeats) && repeats >= 1 && repeats <= 1000)) {
    throw new ValueError(`repeats must be an integer in 1..1000, got ${repeats}`, { repeats });
  }
  for (let w = 0; w < warmup; w++) for (const item of items) run(item, -1 - w);
  const samples: R[][] = items.map(() => []);
  // Round r starts at item r mod n (A B C, B C A, C A B, …): no item always runs first or after
  // the same neighbour, so position effects (a collection left by the previous item) cancel too.
  const n = items.length;
  for (let r = 0; r < repeats; r++) {
    for (let j = 0; j < n; j++) {
      const i = (r + j) % n;
      samples[i]!.push(run(items[i]!, r));
    }
  }
  return samples;
}

/** Raw per-run timings of an infer result that merged several runs. */
export interface InferSamples {
  /** Each run's prefill time, ms. */
  readonly prefillMs: readonly number[];
  /** Each run's median decode step time, ms. */
  readonly decodeMsPerStep: readonly number[];
}

/** Raw per-run timings of a train result that merged several runs. */
export interface TrainSamples {
  /** Each run's median step time, ms. */
  readonly stepMs: readonly number[];
}

function sameTokens(runs: readonly { readonly tokens: readonly number[] }[], what: string): void {
  const first = runs[0]!.tokens.join();
  if (runs.some((r) => r.tokens.join() !== first)) {
    throw new ValueError(`${what}: repeated runs generated different tokens; decoding must be deterministic`);
  }
}

/**
 * Several runs of one infer workload → one result: times are medians (tokens/s from the median
 * times), `samples` keeps every run's times, bytes and tokens come from the first run.
 */
export function mergeInfer(runs: readonly InferResult[]): InferResult {
  if (runs.length === 0) throw new ValueError("mergeInfer: no runs");
  sameTokens(runs, "infer");
  const first = runs[0]!;
  const prefill = runs.map((r) => r.prefillMs);
  const decode = runs.map((r) => r.decodeMsPerStep);
  const prefillMs = median(prefill);
  const decodeMsPerStep = first.generate > 1 ? median(decode) : Number.NaN;
  return {
    ...first,
    prefillMs,
    decodeMsPerStep,
    prefillTokensPerSec: (first.batch * first.prompt) / (prefillMs / 1000),
    decodeTokensPerSec: first.generate > 1 ? first.batch / (decodeMsPerStep / 1000) : Number.NaN,
    samples: { prefillMs: prefill, decodeMsPerStep: decode },
  };
}

/** Several runs of one train workload → one result: the median step time, every run's in `samples`. */
export function mergeTrain(runs: readonly TrainResult[]): TrainResult {
  if (runs.length === 0) throw new ValueError("mergeTrain: no runs");
  const first = runs[0]!;
  const step = runs.map((r) => r.stepMs);
  return { ...first, stepMs: median(step), samples: { stepMs: step } };
}
