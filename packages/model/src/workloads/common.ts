/**
 * What every workload shares: a fresh ledger per run (so the peaks are the run's own), the model
 * built inside it, and a check that everything was freed afterwards.
 */
import {
  CATEGORIES,
  type Category,
  type Configuration,
  MemoryLedger,
  TradeoffsError,
  type WorkloadSpec,
  withLedger,
} from "@tradeoffs/core-tensor";
import { type Estimate, estimate } from "../estimator.js";
import { getPreset, type PresetName } from "../presets.js";
import { filled } from "../registry.js";
import { Transformer, type WeightMap } from "../transformer.js";

/**
 * What a workload runs: an executable preset, a configuration, and weights (trained, or random from `seed`).
 */
export interface RunSpec {
  /** An executable preset (`tiny`, `small`). */
  readonly model: PresetName;
  /** The strategies to build the model with. */
  readonly config: Configuration;
  /** Trained weights (e.g. `loadSmallWeights()`); random init from `seed` when absent. */
  readonly weights?: WeightMap | undefined;
  /** Seed of the random initial weights when `weights` is absent; default 0. */
  readonly seed?: number;
}

/** What every workload result carries: the ledger's peak bytes and the estimate for the same run. */
export interface Measured {
  /** Peak bytes per category over the run, as the ledger saw them. */
  readonly peak: Readonly<Record<Category, number>>;
  /** Peak of the total bytes over the run. */
  readonly peakTotal: number;
  /** The estimator's figures for the same run. */
  readonly estimate: Estimate;
}

/** Build the model in a fresh ledger, run `fn`, dispose, and verify zero live bytes remain. */
export function measured<T>(
  spec: RunSpec,
  workload: WorkloadSpec,
  fn: (model: Transformer, ledger: MemoryLedger) => T,
): T & Measured {
  const preset = getPreset(spec.model);
  if (!preset.executable) {
    throw new TradeoffsError(
      "E_NOT_EXECUTABLE",
      `'${spec.model}' is estimate-only; measured runs need tiny or small (use estimate())`,
    );
  }
  // The estimate sizes exactly what runs: the configuration as the model fills it (backend included).
  const config = filled(spec.config);
  const ledger = new MemoryLedger({ name: `${spec.config.label}/${workload.kind}` });
  const result = withLedger(ledger, () => {
    const model = Transformer.create(spec.model, spec.config, {
      seed: spec.seed ?? 0,
      ...(spec.weights ? { weights: spec.weights } : {}),
    });
    try {
      ledger.resetPeak();
      return fn(model, ledger);
    } finally {
      model.dispose();
    }
  });
  const snap = ledger.snapshot();
  if (ledger.live() !== 0) {
    throw new TradeoffsError(
      "E_LEAK",
      `workload ${workload.kind} left ${ledger.live()} live bytes: ${JSON.stringify(snap.live)}`,
    );
  }
  const peak = Object.fromEntries(CATEGORIES.map((c) => [c, snap.peak[c] ?? 0])) as Record<Category, number>;
  return {
    ...result,
    peak,
    peakTotal: snap.peakTotal,
    estimate: estimate(spec.model, config, workload),
  };
}

/** The median of `xs` (mean of the two middle values for an even count; NaN when empty). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
