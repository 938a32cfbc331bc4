/**
 * `serve`: a seeded synthetic request trace through the continuous-batching scheduler of
 * `@tradeoffs/paging`, driven by the real transformer, with the serving cache the configuration's
 * kv-memory strategy builds (`exec.createSequenceCache`). Same trace, same KV budget for every configuration.
 */
import {
  type AttendOptions,
  ConfigError,
  concat,
  narrow,
  noGrad,
  type SequenceCache,
  type SequenceCacheSpec,
  type Strategy,
  type Tensor,
  tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import {
  type ServeMetrics,
  type StepCost,
  type StepModel,
  type StepRecord,
  serve,
  simulatedClock,
  syntheticTrace,
  type TraceOptions,
  wallClock,
} from "@tradeoffs/paging";
import { countParams } from "../estimator.js";
import { kvGroups } from "../kv-layout.js";
import { registry } from "../registry.js";
import type { KvAttend, Transformer } from "../transformer.js";
import { type Measured, measured, type RunSpec } from "./common.js";

/** Adapt a transformer to the scheduler's `StepModel`: per-sequence K/V through a `SequenceCache`. */
export function transformerStepModel(model: Transformer): StepModel {
  const options: AttendOptions = { causal: true, window: model.arch.window };
  const attention = model.exec.attention;
  const lastRows = (logits: Tensor): Float32Array[] => {
    const [B, T, V] = logits.shape as [number, number, number];
    const d = logits.data;
    return Array.from({ length: B }, (_, b) => d.slice((b * T + T - 1) * V, (b * T + T) * V));
  };
  return {
    vocab: model.arch.vocab,
    prefill(cache, seqId, tokens, start) {
      const fresh = tokens.slice(start);
      if (fresh.length === 0)
        throw new ValueError(`prefill of sequence ${seqId}: nothing to compute after ${start} cached tokens`);
      const positions = fresh.map((_, i) => start + i);
      const kvAttend: KvAttend = (layer, q, k, v) => {
        cache.appendTokens(seqId, layer, k, v);
        // With a window the cache is a rolling buffer: a prompt longer than it has already dropped
        // the keys its first queries see, so a prefill from position 0 attends over its own K/V.
        if (options.window !== undefined && start === 0) return attention.attend(q, k, v, options);
        return cache.attend(q, seqId, layer, options);
      };
      return noGrad(() => {
        const ids = tensor(fresh, [1, fresh.length], { dtype: "i32" });
        const logits = model.forwardWith(ids, positions, kvAttend);
        const row = lastRows(logits)[0]!;
        logits.dispose();
        ids.dispose();
        return row;
      });
    },
    decode(cache, seqIds, tokens) {
      const B = seqIds.length;
      const positions = seqIds.map((id) => cache.sequenceLength(id));
      const kvAttend: KvAttend = (layer, q, k, v) => {
        const outs: Tensor[] = [];
        for (let b = 0; b < B; b++) {
          const kb = narrow(k, b, b + 1);
          const vb = narrow(v, b, b + 1);
          cache.appendTokens(seqIds[b]!, layer, kb, vb);
          kb.dispose();
          vb.dispose();
          const qb = narrow(q, b, b + 1);
          outs.push(cache.attend(qb, seqIds[b]!, layer, options));
          qb.dispose();
        }
        const o = concat(outs, 0); // (B, H, 1, D)
        for (const t of outs) t.dispose();
        return o;
      };
      return noGrad(() => {
        const ids = tensor(tokens, [B, 1], { dtype: "i32" });
        const logits = model.forwardWith(ids, positions, kvAttend);
        const rows = lastRows(logits);
        logits.dispose();
        ids.dispose();
        return rows;
      });
    },
  };
}

/**
 * Rates of the nominal machine the default serve clock charges steps to: a 2-core CPU running the
 * WASM backend (order of magnitude of what `pnpm bench` measures here), fixed so the schedule — and
 * every scheduler metric — is the same on every run and every machine.
 */
export const NOMINAL_CPU = {
  /** Sustained f32 FLOP/s of the matmuls. */
  flops: 10e9,
  /** Bytes/s of weight and KV reads. */
  bytesPerSecond: 10e9,
  /** Fixed cost of one step (kernel launches, bookkeeping), seconds. */
  stepOverhead: 1e-3,
} as const;

/**
 * What a step of `model` costs on a machine with `rates`, by token counts: every step reads the
 * weights once; each prefill token and each decoded sequence costs 2 FLOPs per active weight (and
 * the head); each cached token attended reads its K/V and costs 4·L·H·D FLOPs (QKᵀ and PV).
 */
export function modelStepCost(model: Transformer, rates: typeof NOMINAL_CPU = NOMINAL_CPU): StepCost {
  const params = countParams(model.plan);
  const { layers: L, heads: H, headDim: D, dModel: d, vocab: V } = model.arch;
  const perToken = (2 * (params.active - params.embedding) + 2 * d * V) / rates.flops;
  const kv = model.plan.kv;
  // What one token adds to the cache, by the same layer groups the estimator sums (kv-layout.ts).
  const kvBytes = kvGroups(model.arch).reduce(
    (s, g) => s + g.layers * g.vectors * (g.width * kv.bytesPerElement + kv.scaleBytesPerVector),
    0,
  );
  // Bytes every step reads: each layer's matrices as stored (packed formats are smaller) and norms,
  // plus the final norm and the head (the tied embedding when there is no separate head).
  let weightBytes = model.norm.bytes + (model.head ?? model.embed).bytes;
  for (const l of model.layers) {
    weightBytes += l.attnNorm.bytes + l.ffnNorm.bytes;
    for (const w of [l.q, l.k, l.v, l.o, ...l.ffn.namedWeights().values()]) weightBytes += w.bytes;
  }
  return {
    base: rates.stepOverhead + weightBytes / rates.bytesPerSecond,
    perPrefillToken: perToken,
    perContextToken: kvBytes / rates.bytesPerSecond + (4 * L * H * D) / rates.flops,
    perSequence: perToken,
  };
}

/** Options of `runServe`: the KV budget, clock, trace, preemption and batch limit. */
export interface ServeOptions {
  /** KV memory budget in bytes (the same for every configuration). Default 2 MiB (341 tokens of small). */
  readonly budgetBytes?: number;
  /**
   * The scheduler's clock: `model` (default) charges each step by `modelStepCost` on `NOMINAL_CPU`,
   * so the schedule and its metrics are reproducible; `wall` uses each step's measured time. The
   * measured wall seconds are reported either way (`metrics.wallSeconds`).
   */
  readonly clock?: "model" | "wall";
  /** The synthetic request trace (arrivals, prompt and output lengths); default 24 short requests, seeded. */
  readonly trace?: TraceOptions;
  /**
   * What happens to a sequence evicted for memory: recompute its prefix later (default) or swap its K/V to
   * host.
   */
  readonly preemption?: "recompute" | "swap";
  /** Sequences decoded together at most; default 16. */
  readonly maxBatch?: number;
}

/** What the trace and the KV layout predict before anything runs (an estimate, and says so). */
export interface ServeEstimate {
  /** Device bytes per cached token (every layer, K and V, scales). */
  readonly tokenBytes: number;
  readonly capacityTokens: number;
  /** Sequences the budget holds at once, for the trace's mean reservation. */
  readonly concurrentSequences: number;
  /** 1 − live tokens / reserved slots, weighted by each request's lifetime (∝ its output length). */
  readonly wastePercent: number;
}

/**
 * Predict waste and concurrency from the trace alone: a request with prompt p and output o holds on
 * average p + o/2 live tokens over its o decode steps (at most `window` with sliding-window
 * attention), and the cache's layout says how many slots it holds meanwhile (`meanHeldTokens`:
 * reserve-max holds p + maxNew, blocks about p + o/2 + block/2, a rolling buffer at most its ring).
 */
export function estimateServe(
  trace: readonly {
    readonly prompt: readonly number[];
    readonly outputTokens: number;
    readonly maxNewTokens?: number | undefined;
  }[],
  cache: Pick<SequenceCache, "tokenBytes" | "meanHeldTokens">,
  budgetBytes: number,
  maxSeq: number,
  window?: number,
): ServeEstimate {
  const tokenBytes = cache.tokenBytes;
  let live = 0;
  let reserved = 0;
  let lifetimes = 0;
  let slots = 0;
  for (const r of trace) {
    const p = r.prompt.length;
    const o = r.outputTokens;
    const held = cache.meanHeldTokens(p, o, p + Math.min(r.maxNewTokens ?? maxSeq - p, maxSeq - p));
    live += o * Math.min(p + o / 2, window ?? Number.POSITIVE_INFINITY);
    reserved += o * held;
    lifetimes += o;
    slots += held;
  }
  const capacityTokens = Math.floor(budgetBytes / tokenBytes);
  const meanHeld = lifetimes > 0 ? reserved / lifetimes : slots / Math.max(1, trace.length);
  return {
    tokenBytes,
    capacityTokens,
    concurrentSequences: Math.floor(capacityTokens / meanHeld),
    wastePercent: reserved > 0 ? 100 * (1 - live / reserved) : 0,
  };
}

/**
 * What `runServe` measured: throughput and latency metrics of the continuous-batching scheduler, the KV
 * memory timeline, and the prediction for the same trace.
 */
export interface ServeResult extends Measured {
  /** Discriminates the workload results. */
  readonly kind: "serve";
  /** The serving cache's layout (`SequenceCache.kind`: `contiguous`, `paged`). */
  readonly memory: string;
  /** Throughput, latency and memory metrics of the run. */
  readonly metrics: ServeMetrics;
  /** The estimator's prediction for the same trace and budget. */
  readonly predicted: ServeEstimate;
  /** The KV budget the run had, in bytes. */
  readonly budgetBytes: number;
  /** KV bytes reserved and used, and running sequences, after each scheduler step. */
  readonly timeline: readonly {
    readonly step: number;
    readonly reserved: number;
    readonly used: number;
    readonly running: number;
  }[];
}

/** Default trace for the small model: 24 requests, short prompts and outputs, seeded. */
export const SMALL_TRACE: TraceOptions = {
  requests: 24,
  seed: 7,
  rate: 50,
  vocab: 256,
  prompt: { median: 24, sigma: 0.6, min: 4, max: 96 },
  output: { median: 16, sigma: 0.8, min: 2, max: 96 },
  maxNewTokens: 96,
};

/**
 * Serves a synthetic request trace with continuous batching from the configuration's KV cache inside a fixed
 * budget, measuring throughput, latency and memory; returns them with the prediction.
 */
export function runServe(spec: RunSpec, options: ServeOptions = {}): ServeResult {
  const budgetBytes = options.budgetBytes ?? 2 * 2 ** 20;
  const trace = syntheticTrace({ ...SMALL_TRACE, ...options.trace });
  const workload = { kind: "serve", batch: options.maxBatch ?? 16, seq: 0, generate: 0 } as const;
  return measured(spec, workload, (model) => {
    const { layers, kvHeads, headDim } = model.arch;
    const cache = servingCache(model, {
      layers,
      kvHeads,
      headDim,
      dtype: model.exec["kv-dtype"],
      budgetBytes,
      swap: options.preemption === "swap",
      window: model.arch.window,
    });
    const timeline: { step: number; reserved: number; used: number; running: number }[] = [];
    try {
      const { metrics } = serve(trace, {
        cache,
        model: transformerStepModel(model),
        preemption: options.preemption ?? "recompute",
        maxBatch: options.maxBatch ?? 16,
        maxSeq: model.arch.maxSeq,
        clock: options.clock === "wall" ? wallClock : simulatedClock(modelStepCost(model)),
        onStep: (s: StepRecord) =>
          timeline.push({
            step: s.step,
            reserved: s.usage.reservedBytes,
            used: s.usage.usedBytes,
            running: s.running,
          }),
      });
      const predicted = estimateServe(trace, cache, budgetBytes, model.arch.maxSeq, model.arch.window);
      return { kind: "serve" as const, memory: cache.kind, metrics, budgetBytes, timeline, predicted };
    } finally {
      cache.dispose();
    }
  });
}

/** The serving cache of the model's kv-memory strategy; a `ConfigError` naming the servable ones if it has none. */
function servingCache(model: Transformer, spec: SequenceCacheSpec): SequenceCache {
  const exec = model.exec["kv-memory"];
  if (exec.createSequenceCache) return exec.createSequenceCache(spec);
  const servable = Object.entries(registry).flatMap(([name, f]) => {
    if (!("definition" in f) || f.definition.slot !== "kv-memory") return [];
    return (f() as Strategy<"kv-memory">).exec.createSequenceCache ? [name] : [];
  });
  throw new ConfigError([
    `serve: the kv-memory strategy ${model.config.get("kv-memory")?.label ?? "(none)"} builds no serving cache (exec.createSequenceCache); use one that does: ${servable.join(", ")}`,
  ]);
}
