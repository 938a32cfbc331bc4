/**
 * A continuous-batching scheduler (iteration-level, as in Orca and vLLM): waiting requests join while KV
 * memory allows, every running sequence decodes a token, the newest is preempted (recompute or swap)
 * when memory runs out. Model-agnostic (a `StepModel`) and cache-agnostic (any `SequenceCache`).
 */
import { type KvUsage, Rng, type SequenceCache, ValueError } from "@tradeoffs/core-tensor";
import { PoolExhaustedError, RequestTooLargeError } from "./errors.js";

/**
 * What the scheduler needs from a model. Both calls append the K/V of the tokens they compute to
 * `cache` for every layer (the scheduler commits them afterwards) and return next-token logits.
 */
export interface StepModel {
  /** Vocabulary size: the length of each logits vector. */
  readonly vocab: number;
  /** Compute `tokens[start..]` of a sequence whose first `start` tokens are cached; logits [vocab] of the last. */
  prefill(cache: SequenceCache, seqId: number, tokens: readonly number[], start: number): Float32Array;
  /** One new token per sequence (at position `cache.sequenceLength(id)`); logits [vocab] for each. */
  decode(cache: SequenceCache, seqIds: readonly number[], tokens: readonly number[]): Float32Array[];
}

/** One request of a serve trace: prompt tokens, arrival time and how many tokens to generate. */
export interface ServeRequest {
  /** Request id, unique in the trace. */
  readonly id: number;
  /** Arrival time in seconds (same clock as the scheduler's). */
  readonly arrival: number;
  /** Prompt token ids. */
  readonly prompt: readonly number[];
  /** Tokens to generate per sample (the simulated end of sequence). */
  readonly outputTokens: number;
  /** The client's cap on new tokens; `Contiguous` reserves prompt + this. Default: up to `maxSeq`. */
  readonly maxNewTokens?: number | undefined;
  /** Parallel samples sharing the prompt (forked after prefill). Default 1. */
  readonly n?: number | undefined;
  /** 0 (default) = greedy; otherwise softmax sampling with a per-sample seeded `Rng`. */
  readonly temperature?: number | undefined;
  /** Seed of the samples' RNGs (when temperature > 0). */
  readonly seed?: number | undefined;
}

/** What one step did, for the clock. */
export interface StepWork {
  /** Prompt tokens computed this step. */
  readonly prefillTokens: number;
  /** Sequences that decoded one token this step. */
  readonly decodeSequences: number;
  /** Σ cached positions the decode batch attended over. */
  readonly contextTokens: number;
  /** Measured wall time of the step. */
  readonly wallSeconds: number;
}

/** Seconds a step takes on the scheduler's clock. The default is the measured wall time. */
export type StepClock = (work: StepWork) => number;

/**
 * Options of the continuous-batching scheduler: the KV cache, the model and the preemption policy.
 */
export interface SchedulerOptions {
  /** The KV cache sequences live in (`Contiguous` or `Paged`). */
  readonly cache: SequenceCache;
  /** The model that prefills and decodes. */
  readonly model: StepModel;
  /** What to do with a preempted sequence: `recompute` (free, prefill again later) or `swap` (to the host pool). */
  readonly preemption?: "recompute" | "swap" | undefined;
  /** Most sequences in the running batch; default 256. */
  readonly maxBatch?: number | undefined;
  /** Model context length; default 2048. */
  readonly maxSeq?: number | undefined;
  /** Seconds each step takes; default the measured wall time. */
  readonly clock?: StepClock | undefined;
  /** Called after every step with the time and the KV usage during the step. */
  readonly onStep?: ((s: StepRecord) => void) | undefined;
}

/** What the scheduler reports after each step (for timelines of KV usage). */
export interface StepRecord {
  /** Step index from 0. */
  readonly step: number;
  /** Clock time at the end of the step. */
  readonly time: number;
  /** Clock seconds the step took. */
  readonly seconds: number;
  /** Sequences in the running batch. */
  readonly running: number;
  /** KV usage during the step. */
  readonly usage: KvUsage;
  /** The work the step did. */
  readonly work: StepWork;
}

/** How one request went: arrival, first token, completion and its outputs. */
export interface RequestResult {
  /** The request's id. */
  readonly id: number;
  /** Arrival time, clock seconds. */
  readonly arrival: number;
  /** Clock time of the first generated token. */
  readonly firstTokenAt: number;
  /** Clock time the last sample finished. */
  readonly doneAt: number;
  /** Generated tokens per sample. */
  readonly outputs: readonly (readonly number[])[];
  /** Times the request was preempted. */
  readonly preemptions: number;
}

/** Result of a scheduler run: per-request results and the run's totals. */
export interface ScheduleResult {
  /** Per-request results in id order. */
  readonly requests: readonly RequestResult[];
  /** Steps run. */
  readonly steps: number;
  /** Clock time when the last request finished. */
  readonly time: number;
  /** Measured wall time of the run. */
  readonly wallSeconds: number;
  /** Preemptions by kind. */
  readonly preemptions: { readonly recompute: number; readonly swap: number };
  /** Most device-resident sequences at once. */
  readonly peakSequences: number;
  /** Prompt tokens computed (recomputed prefills included). */
  readonly prefillTokens: number;
  /** Tokens decoded. */
  readonly decodeTokens: number;
  /** Σ over steps of bytes × seconds (time-weighted KV usage). */
  readonly reservedByteSeconds: number;
  /** Σ over steps of bytes holding real tokens × seconds. */
  readonly usedByteSeconds: number;
  /** Most KV bytes reserved at once. */
  readonly peakReservedBytes: number;
  /** Σ over steps of device-resident sequences × seconds. */
  readonly sequenceSeconds: number;
  /** Σ over finished sequences of slots held at the end and slots filled (internal fragmentation). */
  readonly finalSlots: number;
  /** Σ over finished sequences of token slots filled (with `finalSlots`: internal fragmentation). */
  readonly finalTokens: number;
}

interface SeqRun {
  readonly seqId: number;
  readonly req: ReqRun;
  /** Sample index within its request. */
  readonly sample: number;
  /** Prompt followed by the generated tokens. */
  readonly tokens: number[];
  generated: number;
  readonly rng: Rng;
  /** Admission order (preemption takes the newest). */
  order: number;
}

interface ReqRun {
  readonly r: ServeRequest;
  readonly maxTokens: number;
  firstTokenAt: number;
  doneAt: number;
  readonly outputs: number[][];
  remaining: number;
  preemptions: number;
}

type Waiting =
  | { readonly kind: "new"; readonly req: ReqRun }
  | { readonly kind: "resume"; readonly seq: SeqRun };

/** Greedy (temperature 0) or seeded softmax sampling over logits [vocab]. */
export function sampleToken(logits: Float32Array, temperature: number, rng: Rng): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (!(temperature > 0)) return best;
  const mx = logits[best]!;
  let sum = 0;
  const p = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i]! - mx) / temperature);
  let u = rng.uniform() * sum;
  for (let i = 0; i < p.length; i++) {
    u -= p[i]!;
    if (u < 0) return i;
  }
  return best;
}

const wallTime: StepClock = (w) => w.wallSeconds;

/**
 * Serve `requests` (sorted by arrival or not) to completion. Throws `RequestTooLargeError` up front
 * for a request that could not fit the KV budget even alone.
 */
export function schedule(requests: readonly ServeRequest[], options: SchedulerOptions): ScheduleResult {
  const { cache, model } = options;
  const mode = options.preemption ?? "recompute";
  if (mode !== "recompute" && mode !== "swap") {
    throw new ValueError(`scheduler: preemption must be 'recompute' or 'swap', got '${String(mode)}'`);
  }
  const maxBatch = options.maxBatch ?? 256;
  const maxSeq = options.maxSeq ?? 2048;
  const clock = options.clock ?? wallTime;

  const pending: ReqRun[] = [...requests]
    .sort((a, b) => a.arrival - b.arrival || a.id - b.id)
    .map((r) => {
      const n = r.n ?? 1;
      if (!(Number.isInteger(n) && n >= 1))
        throw new ValueError(`request ${r.id}: n must be a positive integer, got ${n}`);
      if (!(Number.isInteger(r.outputTokens) && r.outputTokens >= 1)) {
        throw new ValueError(
          `request ${r.id}: outputTokens must be a positive integer, got ${r.outputTokens}`,
        );
      }
      if (r.prompt.length < 1)
        throw new ValueError(`request ${r.id}: the prompt is empty; give at least one token`);
      const need = r.prompt.length + r.outputTokens;
      if (need > maxSeq) {
        throw new RequestTooLargeError({
          request: r.id,
          tokens: need,
          capacityTokens: maxSeq,
          what: "beyond the context length maxSeq",
        });
      }
      const maxTokens = Math.max(need, Math.min(maxSeq, r.prompt.length + (r.maxNewTokens ?? maxSeq)));
      const footprint = cache.footprintTokens(need - 1, maxTokens);
      if (footprint > cache.capacityTokens) {
        throw new RequestTooLargeError({
          request: r.id,
          tokens: footprint,
          capacityTokens: cache.capacityTokens,
          what: `${cache.kind} footprint`,
        });
      }
      return { r, maxTokens, firstTokenAt: -1, doneAt: -1, outputs: [], remaining: n, preemptions: 0 };
    });

  const waiting: Waiting[] = [];
  const swapped: SeqRun[] = [];
  let running: SeqRun[] = [];
  const done: ReqRun[] = [];
  let nextSeqId = 0;
  let order = 0;
  let now = 0;
  let steps = 0;
  let arrived = 0;
  const pre = { recompute: 0, swap: 0 };
  let peakSequences = 0;
  let prefillTotal = 0;
  let decodeTotal = 0;
  let reservedBS = 0;
  let usedBS = 0;
  let peakReserved = 0;
  let seqSeconds = 0;
  let finalSlots = 0;
  let finalTokens = 0;
  const wallStart = performance.now();

  /** The cache cannot make room even with nothing else running. */
  const exhausted = (requested: number) =>
    new PoolExhaustedError({
      pool: `${cache.kind} KV cache`,
      requested,
      free: 0,
      capacity: cache.capacityTokens,
      blockBytes: cache.tokenBytes,
    });

  const finishSeq = (s: SeqRun) => {
    const slots = cache.footprintTokens(s.tokens.length - 1, s.req.maxTokens);
    finalSlots += slots;
    // The last token's K/V is never needed; a rolling buffer (sliding window) fills at most its ring.
    finalTokens += Math.min(s.tokens.length - 1, slots);
    cache.free(s.seqId);
    s.req.outputs[s.sample] = s.tokens.slice(s.req.r.prompt.length);
    if (--s.req.remaining === 0) {
      s.req.doneAt = -2; // set to the step's end time below
      done.push(s.req);
    }
  };

  const preempt = (v: SeqRun) => {
    running = running.filter((s) => s !== v);
    v.req.preemptions++;
    if (mode === "swap" && cache.canSwap && cache.swapOut(v.seqId)) {
      swapped.push(v);
      pre.swap++;
    } else {
      cache.free(v.seqId);
      waiting.unshift({ kind: "resume", seq: v });
      pre.recompute++;
    }
  };

  while (done.length < pending.length) {
    const t0 = performance.now();
    while (arrived < pending.length && pending[arrived]!.r.arrival <= now)
      waiting.push({ kind: "new", req: pending[arrived++]! });
    if (running.length === 0 && waiting.length === 0 && swapped.length === 0) {
      now = pending[arrived]!.r.arrival; // idle: jump to the next arrival
      continue;
    }
    let prefillTokens = 0;
    const justAdmitted = new Set<SeqRun>();
    const stepFirst: ReqRun[] = [];

    // 1. Swapped sequences come back first (they were running before anything waiting).
    while (swapped.length > 0 && running.length < maxBatch && cache.swapIn(swapped[0]!.seqId)) {
      const s = swapped.shift()!;
      s.order = order++;
      running.push(s);
    }

    // 2. Admit waiting work (FCFS) while memory allows; prefill it.
    while (swapped.length === 0 && waiting.length > 0 && running.length < maxBatch) {
      const w = waiting[0]!;
      const req = w.kind === "new" ? w.req : w.seq.req;
      const tokens = w.kind === "new" ? [...req.r.prompt] : w.seq.tokens;
      if (!cache.canAdmit(tokens.length, req.maxTokens) && running.length > 0) break;
      const seqId = w.kind === "new" ? nextSeqId : w.seq.seqId;
      const cached = cache.addSequence(seqId, { tokens, maxTokens: req.maxTokens });
      if (!cache.ensureCapacity(seqId, tokens.length - cached)) {
        cache.free(seqId);
        if (running.length > 0) break;
        throw exhausted(tokens.length - cached);
      }
      waiting.shift();
      const logits = model.prefill(cache, seqId, tokens, cached);
      cache.commit(seqId, tokens.slice(cached));
      prefillTokens += tokens.length - cached;
      if (w.kind === "resume") {
        const s = w.seq;
        s.order = order++;
        s.tokens.push(sampleToken(logits, req.r.temperature ?? 0, s.rng));
        s.generated++;
        justAdmitted.add(s);
        if (s.generated >= req.r.outputTokens) finishSeq(s);
        else running.push(s);
        continue;
      }
      // A new request: sample 0 owns the prefill; samples 1..n-1 fork from it.
      const n = req.r.n ?? 1;
      nextSeqId += n;
      stepFirst.push(req);
      const seqs: SeqRun[] = [];
      for (let j = 0; j < n; j++) {
        const s: SeqRun = {
          seqId: seqId + j,
          req,
          sample: j,
          tokens: [...tokens],
          generated: 0,
          rng: new Rng((req.r.seed ?? req.r.id) * 1009 + j),
          order: order++,
        };
        s.tokens.push(sampleToken(logits, req.r.temperature ?? 0, s.rng));
        s.generated = 1;
        // No memory for a copy (contiguous): this sample waits and recomputes its prompt later.
        if (j > 0 && !cache.fork(seqId, s.seqId)) waiting.push({ kind: "resume", seq: s });
        else seqs.push(s);
      }
      for (const s of seqs) {
        justAdmitted.add(s);
        if (s.generated >= req.r.outputTokens) finishSeq(s);
        else running.push(s);
      }
    }

    // 3. One decode token for every sequence that was running before this step's admissions.
    const batch: SeqRun[] = [];
    for (const s of [...running].sort((a, b) => a.order - b.order)) {
      if (justAdmitted.has(s) || !running.includes(s)) continue;
      while (!cache.ensureCapacity(s.seqId, 1)) {
        const victim = running.reduce((a, b) => (b.order > a.order ? b : a));
        preempt(victim);
        const at = batch.indexOf(victim);
        if (at >= 0) batch.splice(at, 1);
        if (victim === s) break;
      }
      if (running.includes(s)) batch.push(s);
    }
    let contextTokens = 0;
    if (batch.length > 0) {
      // Keys each sequence's step reads: all of them, or what a rolling buffer (sliding window) holds.
      for (const s of batch) {
        const n = cache.sequenceLength(s.seqId) + 1;
        contextTokens += Math.min(n, cache.footprintTokens(n, s.req.maxTokens));
      }
      const last = batch.map((s) => s.tokens[s.tokens.length - 1]!);
      const logits = model.decode(
        cache,
        batch.map((s) => s.seqId),
        last,
      );
      batch.forEach((s, i) => {
        cache.commit(s.seqId, [last[i]!]);
        s.tokens.push(sampleToken(logits[i]!, s.req.r.temperature ?? 0, s.rng));
        s.generated++;
      });
    }
    if (prefillTokens === 0 && batch.length === 0 && swapped.length > 0 && running.length === 0) {
      throw exhausted(1);
    }

    // 4. Account the step, then let finished sequences leave.
    const usage = cache.usage();
    const work: StepWork = {
      prefillTokens,
      decodeSequences: batch.length,
      contextTokens,
      wallSeconds: (performance.now() - t0) / 1000,
    };
    const dt = clock(work);
    now += dt;
    steps++;
    prefillTotal += prefillTokens;
    decodeTotal += batch.length;
    reservedBS += usage.reservedBytes * dt;
    usedBS += usage.usedBytes * dt;
    seqSeconds += usage.sequences * dt;
    peakReserved = Math.max(peakReserved, usage.reservedBytes);
    peakSequences = Math.max(peakSequences, usage.sequences);
    for (const r of stepFirst) r.firstTokenAt = now;
    const still: SeqRun[] = [];
    for (const s of running) {
      if (s.generated >= s.req.r.outputTokens) finishSeq(s);
      else still.push(s);
    }
    running = still;
    for (const r of done) if (r.doneAt === -2) r.doneAt = now;
    options.onStep?.({ step: steps, time: now, seconds: dt, running: running.length, usage, work });
  }

  return {
    requests: pending.map((q) => ({
      id: q.r.id,
      arrival: q.r.arrival,
      firstTokenAt: q.firstTokenAt,
      doneAt: q.doneAt,
      outputs: q.outputs,
      preemptions: q.preemptions,
    })),
    steps,
    time: now,
    wallSeconds: (performance.now() - wallStart) / 1000,
    preemptions: pre,
    peakSequences,
    prefillTokens: prefillTotal,
    decodeTokens: decodeTotal,
    reservedByteSeconds: reservedBS,
    usedByteSeconds: usedBS,
    peakReservedBytes: peakReserved,
    sequenceSeconds: seqSeconds,
    finalSlots,
    finalTokens,
  };
}
