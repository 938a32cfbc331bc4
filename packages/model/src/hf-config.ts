/**
 * Read a Hugging Face `config.json` of the Llama, Mistral, Mixtral or GPT-2 families into an
 * `ArchSpec` for the estimator (the usual fields: hidden size, layers, heads, KV heads,
 * intermediate size, vocabulary, tied embeddings, experts). Other families get a typed error.
 */
import { readFileSync } from "node:fs";
import { type ArchSpec, FormatError, ValueError } from "@tradeoffs/core-tensor";

export const HF_FAMILIES = ["llama", "mistral", "mixtral", "gpt2"] as const;

type Json = Record<string, unknown>;

function int(c: Json, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new FormatError(
      "config.json",
      `'${key}' must be a positive integer, got ${JSON.stringify(c[key])}`,
      { key },
    );
  }
  return v;
}

/** An architecture from a parsed config.json object. */
export function archFromHfConfig(c: Json, name = "hf-config"): ArchSpec {
  const type = String(c.model_type ?? "").toLowerCase();
  if (type === "gpt2") {
    const d = int(c, "n_embd");
    const heads = int(c, "n_head");
    return {
      name,
      layers: int(c, "n_layer"),
      dModel: d,
      heads,
      kvHeads: heads,
      headDim: d / heads,
      ffnHidden: int(c, "n_inner", 4 * d),
      ffnKind: "gelu",
      vocab: int(c, "vocab_size"),
      tiedEmbeddings: c.tie_word_embeddings !== false,
      norm: "layernorm",
      positional: "learned",
      maxSeq: int(c, "n_positions", 1024),
      biases: true,
      experts: 1,
      topK: 1,
      sharedExperts: 0,
      capacity: Number.POSITIVE_INFINITY,
      ropeTheta: 10000,
      normEps: typeof c.layer_norm_epsilon === "number" ? c.layer_norm_epsilon : 1e-5,
    };
  }
  if (type === "llama" || type === "mistral" || type === "mixtral") {
    const d = int(c, "hidden_size");
    const heads = int(c, "num_attention_heads");
    const window = c.sliding_window;
    return {
      name,
      layers: int(c, "num_hidden_layers"),
      dModel: d,
      heads,
      kvHeads: int(c, "num_key_value_heads", heads),
      headDim: int(c, "head_dim", d / heads),
      ffnHidden: int(c, "intermediate_size"),
      ffnKind: "swiglu",
      vocab: int(c, "vocab_size"),
      tiedEmbeddings: c.tie_word_embeddings === true,
      norm: "rmsnorm",
      positional: "rope",
      maxSeq: int(c, "max_position_embeddings", 4096),
      window: typeof window === "number" && window > 0 ? window : undefined,
      biases: false,
      experts: type === "mixtral" ? int(c, "num_local_experts", 8) : 1,
      topK: type === "mixtral" ? int(c, "num_experts_per_tok", 2) : 1,
      sharedExperts: 0,
      capacity: Number.POSITIVE_INFINITY,
      ropeTheta: typeof c.rope_theta === "number" ? c.rope_theta : 10000,
      normEps: typeof c.rms_norm_eps === "number" ? c.rms_norm_eps : 1e-5,
    };
  }
  throw new ValueError(
    `config.json: model_type '${String(c.model_type)}' is not supported; supported families: ${HF_FAMILIES.join(", ")}`,
    { modelType: c.model_type },
  );
}

/** Read and convert a config.json file. */
export function loadHfConfig(path: string): ArchSpec {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
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
  const base = (path.split(/[\\/]/).pop() ?? "hf-config").replace(/\.json$/i, "");
  return archFromHfConfig(json as Json, base);
}
