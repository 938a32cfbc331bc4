/**
 * The `serve` workload core: a seeded synthetic request trace (Poisson arrivals, log-normal prompt
 * and output lengths clipped to the context), run through the scheduler with a KV budget, reduced to
 * serving metrics. The clock is simulated by default (`simulatedClock`); pass `wallClock` for real time.
 */
import { Rng, ValueError } from "@tradeoffs/core-tensor";
import {
  type ScheduleResult,
  type SchedulerOptions,
  type ServeRequest,
  type StepClock,
  schedule,
} from "./scheduler.js";

/** A clipped log-normal length: exp(ln(median) + sigma · N(0,1)) rounded, in [min, max]. */
export interface LengthDistribution {
  /** Median length (tokens). */
  readonly median: number;
  /** Std of ln(length). */
  readonly sigma: number;
  /** Smallest length (clip). */
  readonly min: number;
  /** Largest length (clip). */
  readonly max: number;
}

/**
 * Shape of a synthetic serve trace: request count, arrival rate, length distributions, sampling.
 */
export interface TraceOptions {
  /** Requests in the trace; default 200. */
  readonly requests?: number | undefined;
  /** Mean arrivals per second (Poisson); default 20. */
  readonly rate?: number | undefined;
  /** Seed of the trace's RNG; default 0. */
  readonly seed?: number | undefined;
  /** Token ids are drawn uniformly from [0, vocab); default 64. */
  readonly vocab?: number | undefined;
  /** Default: median 128, sigma 0.9, in [4, 1024]. */
  readonly prompt?: Partial<LengthDistribution> | undefined;
  /** Default: median 128, sigma 1.0, in [1, 1024]. */
  readonly output?: Partial<LengthDistribution> | undefined;
  /** Context length: prompt + output ≤ maxSeq (outputs are clipped); default 2048. */
  readonly maxSeq?: number | undefined;
  /** Parallel samples per request; default 1. */
  readonly n?: number | undefined;
  /** Sampling temperature; default 0 (greedy) when n = 1, 1 when n > 1. */
  readonly temperature?: number | undefined;
  /** The client's cap on new tokens; default none (Contiguous then reserves up to maxSeq). */
  readonly maxNewTokens?: number | undefined;
  /** A shared system prompt of this many tokens starts every request; default 0. */
  readonly sharedPrefix?: number | undefined;
}

/** Prompt lengths of a default trace: median 128, sigma 0.9, in [4, 1024]. */
export const DEFAULT_PROMPT: LengthDistribution = { median: 128, sigma: 0.9, min: 4, max: 1024 };
/** Output lengths of a default trace: median 128, sigma 1.0, in [1, 1024]. */
export const DEFAULT_OUTPUT: LengthDistribution = { median: 128, sigma: 1.0, min: 1, max: 1024 };

function draw(d: LengthDistribution, rng: Rng): number {
  const x = Math.round(Math.exp(Math.log(d.median) + d.sigma * rng.normal()));
  return Math.min(d.max, Math.max(d.min, x));
}

/** A seeded synthetic trace. Same options, same trace. */
export function syntheticTrace(o: TraceOptions = {}): ServeRequest[] {
  const count = o.requests ?? 200;
  const rate = o.rate ?? 20;
  const vocab = o.vocab ?? 64;
  const maxSeq = o.maxSeq ?? 2048;
  const n = o.n ?? 1;
  const shared = o.sharedPrefix ?? 0;
  if (!(rate > 0)) throw new ValueError(`syntheticTrace: rate must be > 0 requests/s, got ${rate}`);
  if (!(Number.isInteger(count) && count >= 0))
    throw new ValueError(`syntheticTrace: requests must be a non-negative integer, got ${count}`);
  const pd = { ...DEFAULT_PROMPT, ...o.prompt };
  const od = { ...DEFAULT_OUTPUT, ...o.output };
  const rng = new Rng(o.seed ?? 0);
  const system = Array.from({ length: shared }, () => rng.int(vocab));
  const out: ServeRequest[] = [];
  let t = 0;
  for (let id = 0; id < count; id++) {
    t += rng.exponential(rate);
    const p = Math.min(maxSeq - 1, shared + draw(pd, rng));
    const g = Math.max(1, Math.min(maxSeq - p, draw(od, rng)));
    const prompt = [...system.slice(0, p)];
    while (prompt.length < p) prompt.push(rng.int(vocab));
    out.push({
      id,
      arrival: t,
      prompt,
      outputTokens: g,
      maxNewTokens: o.maxNewTokens,
      n,
      temperature: o.temperature ?? (n > 1 ? 1 : 0),
      seed: id,
    });
  }
  return out;
}

/** Per-step cost of a memory-bound accelerator, in seconds (the default simulated clock). */
export interface StepCost {
  /** Fixed cost of a step: reading every weight once (7B fp16 ≈ 13.5 GB at ~1.5 TB/s ≈ 9 ms). */
  readonly base: number;
  /** Per prompt token in prefill (≈ 2 · 7e9 FLOP at ~150 TFLOP/s ≈ 0.1 ms). */
  readonly perPrefillToken: number;
  /** Per cached token attended in decode (7B: 0.5 MB of KV per token at ~1.5 TB/s ≈ 0.35 µs). */
  readonly perContextToken: number;
  /** Per decoded sequence (sampling, bookkeeping). */
  readonly perSequence: number;
}

/** Figures for Llama-2-7B on one A100-class GPU, order of magnitude only (arithmetic in the field docs). */
export const DEFAULT_STEP_COST: StepCost = {
  base: 9e-3,
  perPrefillToken: 1e-4,
  perContextToken: 3.5e-7,
  perSequence: 2e-5,
};

/** A clock that charges each step by `cost`, independent of this machine's speed. */
export function simulatedClock(cost: StepCost = DEFAULT_STEP_COST): StepClock {
  return (w) =>
    cost.base +
    cost.perPrefillToken * w.prefillTokens +
    cost.perContextToken * w.contextTokens +
    cost.perSequence * w.decodeSequences;
}

/** The measured wall time of each step. */
export const wallClock: StepClock = (w) => w.wallSeconds;

/**
 * Summary of one serve run (throughput, latency percentiles, KV waste): what `serve` reports per
 * configuration.
 */
export interface ServeMetrics {
  /** Requests served. */
  readonly requests: number;
  /** Clock seconds from 0 to the last completion. */
  readonly seconds: number;
  /** Measured wall time of the run. */
  readonly wallSeconds: number;
  /** Generated tokens per clock second. */
  readonly tokensPerSecond: number;
  /** Completed requests per clock second. */
  readonly requestsPerSecond: number;
  /** 1 − (bytes holding real tokens) / (bytes reserved for running sequences), time-weighted. */
  readonly wastePercent: number;
  /** Slots reserved but never filled, over slots reserved, for sequences at completion. */
  readonly internalFragmentationPercent: number;
  /** Most KV bytes reserved at once. */
  readonly peakReservedBytes: number;
  /** Most sequences running at once. */
  readonly peakSequences: number;
  /** Time-weighted mean of running sequences. */
  readonly meanSequences: number;
  /** Preemptions by kind (recompute or swap). */
  readonly preemptions: { readonly recompute: number; readonly swap: number };
  /** Time to first token, seconds. */
  readonly ttft: Percentiles;
  /** Time per output token after the first, seconds. */
  readonly tpot: Percentiles;
  /** Scheduler steps. */
  readonly steps: number;
}

/** Nearest-rank 50th, 90th and 99th percentiles of a sample. */
export interface Percentiles {
  /** Median. */
  readonly p50: number;
  /** 90th percentile. */
  readonly p90: number;
  /** 99th percentile. */
  readonly p99: number;
}

/** Nearest-rank percentiles. */
export function percentiles(xs: readonly number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) =>
    s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]! : 0;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/** Reduce a schedule to serving metrics. */
export function serveMetrics(r: ScheduleResult): ServeMetrics {
  const generated = r.requests.reduce((s, q) => s + q.outputs.reduce((a, o) => a + o.length, 0), 0);
  const seconds = r.time - (r.requests.length ? Math.min(...r.requests.map((q) => q.arrival)) : 0);
  const ttft = r.requests.map((q) => q.firstTokenAt - q.arrival);
  const tpot = r.requests
    .filter((q) => (q.outputs[0]?.length ?? 0) > 1)
    .map((q) => (q.doneAt - q.firstTokenAt) / ((q.outputs[0]?.length ?? 2) - 1));
  return {
    requests: r.requests.length,
    seconds,
    wallSeconds: r.wallSeconds,
    tokensPerSecond: seconds > 0 ? generated / seconds : 0,
    requestsPerSecond: seconds > 0 ? r.requests.length / seconds : 0,
    wastePercent: r.reservedByteSeconds > 0 ? 100 * (1 - r.usedByteSeconds / r.reservedByteSeconds) : 0,
    internalFragmentationPercent:
      r.finalSlots > 0 ? (100 * (r.finalSlots - r.finalTokens)) / r.finalSlots : 0,
    peakReservedBytes: r.peakReservedBytes,
    peakSequences: r.peakSequences,
    meanSequences: seconds > 0 ? r.sequenceSeconds / seconds : 0,
    preemptions: r.preemptions,
    ttft: percentiles(ttft),
    tpot: percentiles(tpot),
    steps: r.steps,
  };
}

/** Run a trace through the scheduler and reduce it to metrics (default clock: `simulatedClock()`). */
export function serve(
  requests: readonly ServeRequest[],
  options: SchedulerOptions,
): { metrics: ServeMetrics; result: ScheduleResult } {
  const result = schedule(requests, { clock: simulatedClock(), ...options });
  return { metrics: serveMetrics(result), result };
}
