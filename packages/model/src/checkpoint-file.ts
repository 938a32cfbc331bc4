/**
 * The weights shipped with the package: the trained `small` model (`weights/small.safetensors`, by
 * `pnpm train-small`), its GQA/MQA variants uptrained from it (`pnpm uptrain-heads`), their
 * metadata, and which of them a configuration runs on. Not the training itself (scripts/).
 */
import {
  type Configuration,
  loadSafetensors,
  MemoryLedger,
  TradeoffsError,
  ValueError,
  withLedger,
} from "@tradeoffs/core-tensor";
import { host } from "#host";
import { basePlan } from "./plan.js";
import { getPreset, type PresetName } from "./presets.js";
import { filled } from "./registry.js";
import type { WeightMap } from "./transformer.js";
import { weightName } from "./weight-names.js";

/** Where the shipped weights live (the package's `weights/`). */
export const WEIGHTS_DIR = host.weightsDir;

/** The shipped small model's training record (`weights/small.json`); other fields it holds pass through. */
export interface SmallMeta {
  /** Validation cross-entropy after training, nats per byte. */
  readonly valLoss: number;
  /** The validation loss of a unigram model fitted on the training text (the bar to beat), nats per byte. */
  readonly unigramLoss: number;
  /** Training steps. */
  readonly steps: number;
  /** Training tokens seen (steps × batch × seq). */
  readonly tokens: number;
  /** Seed of initialisation and batch sampling. */
  readonly seed: number;
  /** The record's other fields (batch, seq, lr, backend, corpus, units, …). */
  readonly [key: string]: unknown;
}

/**
 * The K/V head layouts of `small` (6 query heads) shipped as uptrained weights: those of the compare
 * app's default suite (`GQA` = `GQA[kvHeads=2]`, `MQA`). Keyed by K/V heads: `GQA[kvHeads=1]` is `MQA`.
 */
export const UPTRAINED_LAYOUTS = [
  { kvHeads: 2, label: "GQA[kvHeads=2]" },
  { kvHeads: 1, label: "MQA" },
] as const;

/** Metadata written beside uptrained weights (`weights/small-kvheads-<k>.json`). */
export interface UptrainMeta {
  /** The configuration label, e.g. `GQA[kvHeads=2]`. */
  readonly layout: string;
  /** K/V heads of the layout (query heads: 6). */
  readonly kvHeads: number;
  /** Uptraining steps (batch × seq bytes each). */
  readonly steps: number;
  /** `steps` as a fraction of the MHA model's training steps (0.05). */
  readonly fraction: number;
  /** Seed of the data order (train-small's). */
  readonly seed: number;
  /** Validation loss (nats/byte) of the MHA model. */
  readonly valLossMha: number;
  /** Validation loss (nats/byte) as converted (K/V heads mean-pooled, before uptraining). */
  readonly valLossConverted: number;
  /** Validation loss (nats/byte) after uptraining. */
  readonly valLossUptrained: number;
  /** The command that wrote the file. */
  readonly command: string;
  /** Further fields (batch, seq, lr, backend, seconds, corpus, ...). */
  readonly [key: string]: unknown;
}

/** A ledger of its own for loaded checkpoints, so workloads measure only what they allocate. */
export const checkpointLedger = new MemoryLedger({ name: "checkpoints" });

let cached: WeightMap | null = null;
const uptrainedCache = new Map<number, WeightMap>();

/** File stem of the uptrained weights for `kvHeads` K/V heads: `small-kvheads-2`. */
export function uptrainedFileStem(kvHeads: number): string {
  return `small-kvheads-${kvHeads}`;
}

/** Whether the shipped small-model weights are present (`weights/small.safetensors`). */
export function hasSmallWeights(): boolean {
  return host.exists(host.join(WEIGHTS_DIR, "small.safetensors"));
}

/** The trained small model's f32 weights (loaded once, kept in `checkpointLedger`). */
export function loadSmallWeights(): WeightMap {
  if (cached) return cached;
  const path = host.join(WEIGHTS_DIR, "small.safetensors");
  if (!host.exists(path)) {
    throw new TradeoffsError(
      "E_NO_WEIGHTS",
      `trained weights not found at ${path}; run \`pnpm train-small\` to create them`,
    );
  }
  cached = withLedger(checkpointLedger, () => loadSafetensors(path, { category: "weights" }).tensors);
  return cached;
}

/** The shipped small model's training record, or `null` when `weights/small.json` is absent. */
export function smallMeta(): SmallMeta | null {
  const path = host.join(WEIGHTS_DIR, "small.json");
  return host.exists(path) ? (JSON.parse(host.readText(path)) as SmallMeta) : null;
}

function checkLayout(kvHeads: number): void {
  if (!UPTRAINED_LAYOUTS.some((l) => l.kvHeads === kvHeads)) {
    throw new ValueError(
      `no uptrained small weights for ${kvHeads} K/V heads; shipped: ${UPTRAINED_LAYOUTS.map((l) => `${l.label} (kvHeads ${l.kvHeads})`).join(", ")}`,
      { kvHeads },
    );
  }
}

/** Whether the uptrained small weights for `kvHeads` K/V heads are present. */
export function hasUptrainedWeights(kvHeads: number): boolean {
  return (
    UPTRAINED_LAYOUTS.some((l) => l.kvHeads === kvHeads) &&
    host.exists(host.join(WEIGHTS_DIR, `${uptrainedFileStem(kvHeads)}.safetensors`))
  );
}

/**
 * The small model uptrained to `kvHeads` K/V heads (2: `GQA[kvHeads=2]`, 1: `MQA`): f32 weights
 * loaded once into `checkpointLedger`, with K/V projections already `kvHeads × headDim` rows.
 * Throws a `ValueError` for a layout not shipped, `E_NO_WEIGHTS` when the file is missing.
 */
export function loadUptrainedWeights(kvHeads: number): WeightMap {
  checkLayout(kvHeads);
  const hit = uptrainedCache.get(kvHeads);
  if (hit) return hit;
  const path = host.join(WEIGHTS_DIR, `${uptrainedFileStem(kvHeads)}.safetensors`);
  if (!host.exists(path)) {
    throw new TradeoffsError(
      "E_NO_WEIGHTS",
      `uptrained weights not found at ${path}; run \`pnpm uptrain-heads\` to create them`,
    );
  }
  const w = withLedger(checkpointLedger, () => loadSafetensors(path, { category: "weights" }).tensors);
  uptrainedCache.set(kvHeads, w);
  return w;
}

/** Metadata of the uptrained weights for `kvHeads` K/V heads, or null when absent. */
export function uptrainedMeta(kvHeads: number): UptrainMeta | null {
  checkLayout(kvHeads);
  const path = host.join(WEIGHTS_DIR, `${uptrainedFileStem(kvHeads)}.json`);
  return host.exists(path) ? (JSON.parse(host.readText(path)) as UptrainMeta) : null;
}

/** Whether `w` is one of the weight maps this module loaded (trained or uptrained small). */
export function isShippedWeights(w: WeightMap): boolean {
  return w === cached || [...uptrainedCache.values()].includes(w);
}

/** `uptrained` (default): a layout's uptrained weights when shipped; `converted`: always MHA, mean-pooled. */
export type HeadsWeights = "uptrained" | "converted";

/** The weights a configuration runs on, and a one-line account of them for result rows. */
export interface ChosenWeights {
  /** The weight map to pass to `Transformer.create` or a workload's `RunSpec`. */
  readonly weights: WeightMap;
  /** `trained` (MHA as trained), `uptrained` (the layout's own file), `converted` (MHA, pooled on build). */
  readonly kind: "trained" | "uptrained" | "converted";
  /** E.g. `trained (small, 800 steps)`, `uptrained (GQA kvHeads=2, 40 steps)`, `converted from MHA (...)`. */
  readonly source: string;
}

/** K/V heads a configuration gives on a preset, or null when it does not fit the preset. */
function kvHeadsOn(model: PresetName, config: Configuration): number | null {
  const arch = getPreset(model).arch;
  if (config.check({ arch }).length > 0) return null;
  // The heads strategy's plan sets the layout (as when the model is built).
  return filled(config).plan(basePlan(arch, { kind: "infer", batch: 1, seq: 1, generate: 0 })).arch.kvHeads;
}

/** Account of the converted path: what mean-pooling does, for result rows. */
export const CONVERTED_SOURCE = "converted from MHA (K/V heads mean-pooled, not uptrained)";

/**
 * The shipped weights for `config` on `model`, or undefined when none are shipped (any preset but
 * `small`, or no `weights/small.safetensors`). A configuration whose heads slot gives 2 or 1 K/V
 * heads (`GQA[kvHeads=2]`, `MQA`, alone or combined with other slots) gets that layout's uptrained
 * weights when present and `heads` is not `"converted"`; otherwise the MHA weights, which the model
 * mean-pools into its K/V heads when built.
 */
export function shippedWeightsFor(
  model: PresetName,
  config: Configuration,
  options: { heads?: HeadsWeights } = {},
): ChosenWeights | undefined {
  if (model !== "small" || !hasSmallWeights()) return undefined;
  const arch = getPreset(model).arch;
  const kv = kvHeadsOn(model, config);
  const steps = smallMeta()?.steps;
  const trained = {
    weights: loadSmallWeights(),
    kind: "trained" as const,
    source: `trained (small${steps ? `, ${steps} steps` : ""})`,
  };
  if (kv === null || kv === arch.heads) return trained;
  if (options.heads !== "converted" && hasUptrainedWeights(kv)) {
    const meta = uptrainedMeta(kv);
    const layout = kv === 1 ? "MQA" : `GQA kvHeads=${kv}`;
    return {
      weights: loadUptrainedWeights(kv),
      kind: "uptrained",
      source: `uptrained (${layout}${meta ? `, ${meta.steps} steps` : ""})`,
    };
  }
  return { ...trained, kind: "converted", source: CONVERTED_SOURCE };
}

/**
 * Which weights a run on `weights` used, for weights not chosen by `shippedWeightsFor`: random
 * initialisation, or given weights (noting when their K/V heads are mean-pooled to fit).
 */
export function describeWeights(
  model: PresetName,
  config: Configuration,
  weights: WeightMap | undefined,
  seed: number,
): string {
  if (!weights) return `random init (seed ${seed})`;
  const arch = getPreset(model).arch;
  const kv = kvHeadsOn(model, config);
  const rows = weights.get(weightName.attn(0, "k"))?.dim(0);
  if (kv !== null && rows !== undefined && rows !== kv * arch.headDim)
    return `given, K/V heads mean-pooled from ${rows / arch.headDim} to ${kv}`;
  return "given";
}
