/**
 * The trained `small` weights shipped with the package (`weights/small.safetensors`, written by
 * `pnpm train-small`) and their metadata (validation loss vs the unigram baseline).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors, MemoryLedger, TradeoffsError, withLedger } from "@tradeoffs/core-tensor";
import type { WeightMap } from "./transformer.js";

const WEIGHTS_DIR = join(import.meta.dirname, "..", "weights");

export interface SmallMeta {
  readonly valLoss: number;
  readonly unigramLoss: number;
  readonly steps: number;
  readonly tokens: number;
  readonly seed: number;
  readonly [key: string]: unknown;
}

/** A ledger of its own for loaded checkpoints, so workloads measure only what they allocate. */
export const checkpointLedger = new MemoryLedger({ name: "checkpoints" });

let cached: WeightMap | null = null;

export function hasSmallWeights(): boolean {
  return existsSync(join(WEIGHTS_DIR, "small.safetensors"));
}

/** The trained small model's f32 weights (loaded once, kept in `checkpointLedger`). */
export function loadSmallWeights(): WeightMap {
  if (cached) return cached;
  const path = join(WEIGHTS_DIR, "small.safetensors");
  if (!existsSync(path)) {
    throw new TradeoffsError(
      "E_NO_WEIGHTS",
      `trained weights not found at ${path}; run \`pnpm train-small\` to create them`,
    );
  }
  cached = withLedger(checkpointLedger, () => loadSafetensors(path, { category: "weights" }).tensors);
  return cached;
}

export function smallMeta(): SmallMeta | null {
  const path = join(WEIGHTS_DIR, "small.json");
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as SmallMeta) : null;
}
