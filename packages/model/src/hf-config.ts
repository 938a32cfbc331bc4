/**
 * Read a Hugging Face `config.json` into an `ArchSpec` for the estimator, by family (`model_type`):
 * Llama, Mistral, Mixtral, Phi-3, Qwen2, Qwen-MoE, Gemma, Gemma 2, DeepSeek-MoE, DeepSeek-V2 and
 * GPT-2. Every bad field is reported at once (a `ConfigError` naming field, range and value); an
 * unknown family names the supported ones. The family modules live in `hf/`.
 */
import { type ArchSpec, FormatError, ValueError } from "@tradeoffs/core-tensor";
import { host } from "#host";
import type { HfModel } from "./hf/decoder.js";
import { deepseekModel, deepseekV2Model } from "./hf/deepseek.js";
import { ConfigFields } from "./hf/fields.js";
import { gemma2Model, gemmaModel } from "./hf/gemma.js";
import { gpt2Model } from "./hf/gpt2.js";
import { llamaModel, mixtralModel, phi3Model } from "./hf/llama.js";
import { qwen2Model, qwen2MoeModel } from "./hf/qwen2.js";

export type { HfModel } from "./hf/decoder.js";

const READERS = {
  llama: llamaModel,
  mistral: llamaModel,
  mixtral: mixtralModel,
  gpt2: gpt2Model,
  phi3: phi3Model,
  qwen2: qwen2Model,
  qwen2_moe: qwen2MoeModel,
  gemma: gemmaModel,
  gemma2: gemma2Model,
  deepseek: deepseekModel,
  deepseek_v2: deepseekV2Model,
} as const satisfies Record<HfFamily, (f: ConfigFields, name: string) => HfModel>;

/** The `model_type` values a config.json may have. */
export type HfFamily =
  | "llama"
  | "mistral"
  | "mixtral"
  | "gpt2"
  | "phi3"
  | "qwen2"
  | "qwen2_moe"
  | "gemma"
  | "gemma2"
  | "deepseek"
  | "deepseek_v2";

/** The `model_type` values a config.json may have. */
export const HF_FAMILIES: readonly HfFamily[] = Object.keys(READERS) as HfFamily[];

/**
 * An architecture from a parsed config.json object, with what the estimate approximates for its
 * family (`notes`) and the checkpoint parameters `arch` does not count (`missingParams`).
 * Throws a `ConfigError` listing every bad field, or a `ValueError` for an unsupported family.
 */
export function hfModelFromConfig(
  config: Readonly<Record<string, unknown>>,
  name = "hf-config",
  file = "config.json",
): HfModel {
  const type = config.model_type;
  const read =
    typeof type === "string" ? (READERS as Record<string, (typeof READERS)[HfFamily]>)[type] : undefined;
  if (!read) {
    throw new ValueError(
      `${file}: model_type ${JSON.stringify(type ?? null)} is not supported; supported families: ${HF_FAMILIES.join(", ")}`,
      { modelType: type, file },
    );
  }
  const fields = new ConfigFields(config, file);
  const model = read(fields, name);
  fields.done();
  return model;
}

/** An architecture from a parsed config.json object (see `hfModelFromConfig` for its notes). */
export function archFromHfConfig(config: Readonly<Record<string, unknown>>, name = "hf-config"): ArchSpec {
  return hfModelFromConfig(config, name).arch;
}

/** Read and convert a config.json file; the architecture is named after the file (or its folder). */
export function readHfConfig(path: string): HfModel {
  let text: string;
  try {
    text = host.readText(path);
  } catch (e) {
    throw new ValueError(`cannot read ${path}: ${(e as Error).message}`, { path });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError("config.json", `${path} is not valid JSON (${(e as Error).message})`, { path });
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new FormatError("config.json", `${path} must hold a JSON object`, { path });
  }
  // `<model>/config.json` (a Hub snapshot's layout) is named after its folder, `<model>.json` after the file.
  const parts = path.split(/[\\/]/).filter((p) => p !== "");
  const file = parts.pop() ?? "hf-config";
  const base =
    file.toLowerCase() === "config.json" && parts.length > 0
      ? (parts.pop() as string)
      : file.replace(/\.json$/i, "");
  return hfModelFromConfig(json as Readonly<Record<string, unknown>>, base, path);
}

/** Read and convert a config.json file to its architecture (see `readHfConfig` for its notes). */
export function loadHfConfig(path: string): ArchSpec {
  return readHfConfig(path).arch;
}
