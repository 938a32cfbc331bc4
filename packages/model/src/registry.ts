/**
 * Every strategy users can name, merged from the strategy packages into one typed const map, plus
 * the baselines that fill empty slots when a model is built. `Baseline` names the empty configuration.
 */
import { attentionStrategies, standard } from "@tradeoffs/attention";
import { checkpointStrategies, none } from "@tradeoffs/checkpoint";
import {
  type Configuration,
  getBackend,
  js,
  type NamedComposition,
  parseConfig,
  type Strategy,
  setBackend,
  type WasmBackend,
  wasm,
  wasmAvailable,
  withDefaults,
} from "@tradeoffs/core-tensor";
import { kvCacheStrategies, kvDtype, mha } from "@tradeoffs/kv-cache";
import { dense, moeStrategies } from "@tradeoffs/moe";
import { contiguous, pagingStrategies } from "@tradeoffs/paging";
import { fp32, quantStrategies } from "@tradeoffs/quant";

/** `Baseline`: the configuration that sets no strategy (the model as built). */
export const baselineComposition: NamedComposition = {
  name: "Baseline",
  description: "No strategy set: the model as built (baselines in every slot for tiny/small)",
  expand: () => [],
};

/**
 * Every name a configuration string may use (strategies, backends and named compositions), keyed as users
 * type them; `parse()` and `pnpm compare list` read it.
 */
export const registry = {
  Baseline: baselineComposition,
  JS: js,
  WASM: wasm,
  ...attentionStrategies,
  ...kvCacheStrategies,
  ...quantStrategies,
  ...checkpointStrategies,
  ...moeStrategies,
  ...pagingStrategies,
} as const;

/**
 * The `backend` strategy for the kernels active now (`setBackend`, `useFastestBackend`): what a model
 * built now runs on. Pass it to `estimate()` to size the workspace of those kernels.
 */
export function activeBackend(): Strategy<"backend"> {
  return getBackend().name === "WASM" ? wasm({ threads: (getBackend() as WasmBackend).threads }) : js();
}

/**
 * The baseline strategy of every slot except `adapters` (none by default), with `backend` in the
 * backend slot (default: the active backend, so one process-wide switch moves every model onto the
 * fast kernels).
 */
export function baselines(backend: Strategy<"backend"> = activeBackend()): Strategy[] {
  return [backend, standard(), mha(), fp32(), none(), dense(), kvDtype(), contiguous()];
}

/** Make WASM the active backend when this platform supports it; returns the backend's name. */
export function useFastestBackend(): string {
  if (!wasmAvailable()) {
    setBackend("JS");
    return "JS";
  }
  setBackend(wasm().exec.backend);
  return "WASM";
}

/** Parse a configuration string against the full registry. */
export function parse(text: string): Configuration {
  return parseConfig(text, registry);
}

/** `config` with empty slots filled by the baselines (label unchanged); see `baselines` for `backend`. */
export function filled(config: Configuration, backend?: Strategy<"backend">): Configuration {
  return withDefaults(config, baselines(backend));
}

/**
 * The compare app's default suite, in the order the issues introduce the families: each a
 * configuration string of the registry.
 */
/**
 * The `medium` preset's suite: the regimes its size makes visible in decode — fewer weight bytes
 * per token (FP32 vs INT8, Q8_0, Q4_0, NF4), fewer K/V heads, and Flash vs Standard. (MoE is left
 * out: eight experts of medium's FFN are 1.8 GB of f32 weights.)
 */
export const MEDIUM_SUITE = [
  "Baseline",
  "INT8",
  "Q8_0",
  "Q4_0",
  "NF4",
  "GQA[kvHeads=4]",
  "MQA",
  "Flash",
] as const;

/** The configurations `pnpm compare` runs when given none (the medium model has a suite of its own). */
export const DEFAULT_SUITE = [
  "Baseline",
  "Flash",
  "GQA",
  "MQA",
  "INT8",
  "NF4",
  "QLoRA",
  "Ckpt[sqrt]",
  "MoE",
  "Paged",
  "MoE+Flash+GQA+INT8",
  "Flash+GQA+INT4",
] as const;
