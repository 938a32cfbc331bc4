/**
 * Run configurations through the measured workloads on an executable preset and collect rows.
 * No algorithm lives here: everything comes from @tradeoffs/model.
 */
import type { Configuration } from "@tradeoffs/model";
import {
  hasSmallWeights,
  type InferResult,
  loadSmallWeights,
  type PresetName,
  type QualityResult,
  runInfer,
  runQuality,
  runServe,
  runTrain,
  type ServeResult,
  type TrainResult,
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

export function weightsFor(model: PresetName) {
  return model === "small" && hasSmallWeights() ? loadSmallWeights() : undefined;
}

export function runConfigs(
  configs: readonly Configuration[],
  o: RunOptions,
  progress: Progress,
): CompareRow[] {
  const weights = weightsFor(o.model);
  const spec = (config: Configuration) => ({ model: o.model, config, weights, seed: o.seed });
  // Warm up (JIT, WASM instantiation, the worker thread) so the first configuration's times are not
  // charged with one-off start-up costs; the warm-up's results are discarded.
  if (configs[0]) runInfer(spec(configs[0]), { batch: 1, prompt: 8, generate: 2 });
  progress.start(configs.length * o.workloads.length);
  const rows: CompareRow[] = [];
  for (const config of configs) {
    const row: { -readonly [K in keyof CompareRow]: CompareRow[K] } = { config: config.label };
    try {
      for (const w of o.workloads) {
        progress.step(`${config.label}: ${w}`);
        if (w === "infer")
          row.infer = runInfer(spec(config), { batch: o.batch ?? 1, prompt: o.prompt, generate: o.generate });
        if (w === "train")
          row.train = runTrain(spec(config), {
            batch: o.batch ?? 4,
            seq: o.seq,
            steps: o.steps,
            seed: o.seed,
          });
        if (w === "quality") row.quality = runQuality(spec(config), { seq: Math.min(o.seq, 256) });
        if (w === "serve") row.serve = runServe(spec(config), o.budget ? { budgetBytes: o.budget } : {});
      }
    } catch (e) {
      if (!(e instanceof Error) || !("code" in e)) throw e;
      row.error = e.message.split("\n")[0] ?? e.message;
    }
    rows.push(row);
  }
  progress.done();
  return rows;
}
