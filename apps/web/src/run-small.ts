/**
 * Run the trained `small` model in the browser on the WASM backend: fetch the kernels and the shipped
 * weights, run the `infer` workload (the model package's `runInfer`, measured by its ledger), and
 * return measured memory and speed beside the estimate and a roofline projection calibrated here.
 * Runs wherever it is called (the page's worker, runner.ts); not here: the DOM.
 */
import {
  CATEGORIES,
  type Category,
  compose,
  loadWasm,
  MemoryLedger,
  readSafetensors,
  wasm,
  wasmBackend,
  wasmRuntime,
  withBackend,
  withLedger,
} from "@tradeoffs/core-tensor";
import { byteTokenizer, calibrateLocal, parse, project, runInfer } from "@tradeoffs/model";

/** What the page asks for. */
export interface RunRequest {
  /** The configuration string as composed on the page (the WASM backend is added unless it names one). */
  readonly config: string;
  /** 2 when the worker may start a helper (the page is cross-origin isolated), else 1. */
  readonly threads: 1 | 2;
  readonly batch: number;
  readonly prompt: number;
  readonly generate: number;
  /** Where the page serves `kernels.wasm` and `small.safetensors`. */
  readonly wasmUrl: string;
  readonly weightsUrl: string;
}

/** Measured figures beside the estimator's for the same run. */
export interface RunReport {
  readonly config: string;
  readonly threads: number;
  readonly measured: Readonly<Record<Category, number>>;
  readonly measuredTotal: number;
  readonly estimated: Readonly<Record<Category, number>>;
  readonly estimatedTotal: number;
  readonly prefillMs: number;
  readonly decodeMsPerStep: number;
  readonly decodeTokensPerSec: number;
  /** The roofline's times for the estimate on this machine's measured matmul rate and bandwidth. */
  readonly projectedPrefillMs: number;
  readonly projectedDecodeMsPerStep: number;
  /** The greedy continuation of the first prompt, as text. */
  readonly text: string;
}

/** The prompt: plain English bytes (the model is byte-level), longer than any prompt length offered. */
export const PROMPT =
  "The committee met in the afternoon to consider the report on the new school building, and after a long discussion of the costs the members agreed that the work should begin in the spring. ";

export async function runSmall(req: RunRequest): Promise<RunReport> {
  await loadWasm({ url: req.wasmUrl });
  // Helpers boot while this thread waits asynchronously (a worker cannot start while we block).
  if (req.threads > 1) await wasmRuntime().startHelpers(req.threads - 1);
  const res = await fetch(req.weightsUrl);
  if (!res.ok) throw new Error(`fetching the weights from ${req.weightsUrl} failed: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  // The checkpoint's own ledger: the run's ledger then counts only what the model allocates.
  const weights = withLedger(
    new MemoryLedger({ name: "checkpoint" }),
    () => readSafetensors(bytes, { category: "weights" }).tensors,
  );
  const asked = parse(req.config.trim() === "" ? "Baseline" : req.config);
  const config = asked.get("backend") ? asked : compose(asked, wasm({ threads: req.threads }));
  const ids = Array.from(byteTokenizer.encode(PROMPT.repeat(Math.ceil(req.prompt / PROMPT.length))));
  const r = runInfer(
    { model: "small", config, weights },
    {
      batch: req.batch,
      prompt: req.prompt,
      generate: req.generate,
      input: Array.from({ length: req.batch }, () => ids),
    },
  );
  const here = withBackend(wasmBackend(req.threads), () => calibrateLocal());
  const p = project(r.estimate, here);
  for (const t of weights.values()) t.dispose();
  const measured = Object.fromEntries(CATEGORIES.map((c) => [c, r.peak[c]])) as Record<Category, number>;
  return {
    config: config.label,
    threads: req.threads,
    measured,
    measuredTotal: r.peakTotal,
    estimated: r.estimate.bytes,
    estimatedTotal: r.estimate.totalBytes,
    prefillMs: r.prefillMs,
    decodeMsPerStep: r.decodeMsPerStep,
    decodeTokensPerSec: r.decodeTokensPerSec,
    projectedPrefillMs: p.prefill.seconds * 1000,
    projectedDecodeMsPerStep: p.decode.seconds * 1000,
    text: byteTokenizer.decode(r.tokens),
  };
}
