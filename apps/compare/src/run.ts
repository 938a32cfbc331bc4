/**
 * Run configurations through the measured workloads on an executable preset and collect rows.
 * No algorithm lives here: everything comes from @tradeoffs/model.
 */
import type { Configuration, TrainingChoice } from "@tradeoffs/model";
import {
  type InferResult,
  initialWeights,
  interleaved,
  mergeInfer,
  mergeTrain,
  type PresetName,
  type QualityResult,
  type RunSpec,
  runInfer,
  runQuality,
  runServe,
  runTrain,
  type ServeResult,
  shippedWeightsFor,
  type TrainResult,
  withPackCache,
} from "@tradeoffs/model";
import type { Progress } from "./progress.js";

export type WorkloadName = "infer" | "train" | "quality" | "serve";
export const WORKLOADS: readonly WorkloadName[] = ["infer", "train", "quality", "serve"];
/** What `--workload all` runs (serve is its own comparison: `--workload serve`). */
export const DEFAULT_WORKLOADS: readonly WorkloadName[] = ["infer", "train", "quality"];

export interface RunOptions {
  readonly model: PresetName;
  readonly workloads: readonly WorkloadName[];
  readonly batch?: number | undefined;
  readonly seq: number;
  readonly prompt: number;
  readonly generate: number;
  readonly steps: number;
  readonly seed: number;
  /** KV budget for serve, bytes. */
  readonly budget?: number | undefined;
  /** Train batch when `batch` is not given (default 4). */
  readonly trainBatch?: number | undefined;
  /** Timed runs per configuration after its warm-up (default 5). */
  readonly repeats?: number | undefined;
  /**
   * Discarded runs of each configuration before the timed ones (default 1): compiling, first touches of
   * memory and the WASM helper's start are not charged to whichever configuration runs first.
   */
  readonly warmup?: number | undefined;
  /** Optimizer, bf16 parameters / master weights, gradient accumulation for train (default AdamW). */
  readonly training?: TrainingChoice | undefined;
}

export interface CompareRow {
  readonly config: string;
  readonly infer?: InferResult;
  readonly train?: TrainResult;
  readonly quality?: QualityResult;
  readonly serve?: ServeResult;
  /** Why a configuration could not run (bad combination for the model), one line. */
  readonly error?: string;
}

/**
 * The weights a configuration's measured runs start from: small's shipped weights (trained; for
 * GQA[kvHeads=2] and MQA the uptrained ones); for an untrained preset (medium) its seeded
 * initialisation, made once and shared by every configuration; else none (the model draws its own).
 */
export function weightsFor(model: PresetName, config: Configuration, seed = 0) {
  if (model === "small") return shippedWeightsFor(model, config)?.weights;
  if (model === "medium") return initialWeights(model, seed);
  return undefined;
}

/** The first line of a typed error (a configuration this model cannot run); anything else rethrows. */
function typedErrorLine(e: unknown): string {
  if (!(e instanceof Error) || !("code" in e)) throw e;
  return e.message.split("\n")[0] ?? e.message;
}

/**
 * Measure every configuration. Timed workloads (infer, train) run `warmup` times per configuration
 * (default once), then `repeats` rounds interleaved across configurations (A B C A B C …, so drift on a
 * shared machine hits all alike); each row keeps the median times and every sample. Quality and
 * serve are deterministic (serve's clock is simulated) and run once.
 */
export function runConfigs(
  configs: readonly Configuration[],
  o: RunOptions,
  progress: Progress,
): CompareRow[] {
  // Every run builds its model afresh (its own ledger, its own peaks); the packed bytes of a weight
  // are encoded once and copied on the later builds (each build still allocates and charges them).
  return withPackCache(() => measureConfigs(configs, o, progress));
}

function measureConfigs(configs: readonly Configuration[], o: RunOptions, progress: Progress): CompareRow[] {
  // One spec per configuration, made on its first run (inside that run's error handling): its
  // weights are looked up once, not on each of its runs.
  const specs = new Map<Configuration, RunSpec>();
  const spec = (config: Configuration): RunSpec => {
    let s = specs.get(config);
    if (!s) {
      s = { model: o.model, config, weights: weightsFor(o.model, config, o.seed), seed: o.seed };
      specs.set(config, s);
    }
    return s;
  };
  const repeats = o.repeats ?? 5;
  const warmup = o.warmup ?? 1;
  const timed = o.workloads.filter((w) => w === "infer" || w === "train");
  const once = o.workloads.filter((w) => w === "quality" || w === "serve");
  const errors = new Map<Configuration, string>();
  progress.start(configs.length * (timed.length * (repeats + warmup) + once.length));
  const samples = interleaved(configs, { repeats, warmup }, (config, round) => {
    const run: { infer?: InferResult; train?: TrainResult } = {};
    for (const w of timed) {
      progress.step(`${config.label}: ${w} ${round < 0 ? "warm-up" : `${round + 1}/${repeats}`}`);
      if (errors.has(config)) continue;
      try {
        if (w === "infer")
          run.infer = runInfer(spec(config), { batch: o.batch ?? 1, prompt: o.prompt, generate: o.generate });
        else
          run.train = runTrain(spec(config), {
            batch: o.batch ?? o.trainBatch ?? 4,
            seq: o.seq,
            steps: round < 0 ? 1 : o.steps,
            seed: o.seed,
            ...(o.training ? { training: o.training } : {}),
          });
      } catch (e) {
        errors.set(config, typedErrorLine(e));
      }
    }
    return run;
  });
  const rows = configs.map((config, i): CompareRow => {
    const row: { -readonly [K in keyof CompareRow]: CompareRow[K] } = { config: config.label };
    const runs = samples[i]!;
    if (!errors.has(config)) {
      if (timed.includes("infer")) row.infer = mergeInfer(runs.map((r) => r.infer!));
      if (timed.includes("train")) row.train = mergeTrain(runs.map((r) => r.train!));
    }
    for (const w of once) {
      progress.step(`${config.label}: ${w}`);
      if (errors.has(config)) break;
      try {
        if (w === "quality") row.quality = runQuality(spec(config), { seq: Math.min(o.seq, 256) });
        if (w === "serve") row.serve = runServe(spec(config), o.budget ? { budgetBytes: o.budget } : {});
      } catch (e) {
        errors.set(config, typedErrorLine(e));
      }
    }
    const error = errors.get(config);
    return error === undefined ? row : { config: config.label, error };
  });
  progress.done();
  return rows;
}
