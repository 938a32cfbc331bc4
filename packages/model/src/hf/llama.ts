/**
 * Llama-shaped families whose config.json uses Llama's field names: `llama`, `mistral`, `mixtral`
 * (routed experts) and `phi3` (fused qkv and gate/up in the checkpoint, the same parameters).
 * Not here: families with biases, extra norms or other attention (qwen2.ts, gemma.ts, deepseek.ts).
 */
import type { ArchSpec } from "@tradeoffs/core-tensor";
import {
  type DecoderFields,
  type Gap,
  type HfModel,
  hfModel,
  llamaLike,
  readDecoder,
  readRouting,
} from "./decoder.js";
import { type ConfigFields, HF_LIMITS } from "./fields.js";

/** `sliding_window` when the config sets one (a positive integer), else undefined. */
export function readWindow(f: ConfigFields): number | undefined {
  return f.optInt("sliding_window", HF_LIMITS.max_position_embeddings);
}

/**
 * Gaps for Llama's optional `attention_bias` (q, k, v, o; the q, k, v part is counted through
 * `qkvBias`, see `dense`) and `mlp_bias` (gate, up, down) flags.
 */
export function llamaBiasGaps(f: ConfigFields, arch: ArchSpec): Gap[] {
  const gaps: Gap[] = [];
  if (f.flag("attention_bias", false))
    gaps.push({ params: arch.layers * arch.dModel, note: "o bias (q, k, v biases are counted)" });
  if (f.flag("mlp_bias", false))
    gaps.push({ params: arch.layers * (2 * arch.ffnHidden + arch.dModel), note: "gate, up, down biases" });
  return gaps;
}

function dense(f: ConfigFields, name: string, dec: DecoderFields): ArchSpec {
  const ffn = f.int("intermediate_size", HF_LIMITS.intermediate_size);
  const arch: ArchSpec = {
    ...llamaLike(name, dec, ffn, f.flag("tie_word_embeddings", false)),
    window: readWindow(f),
  };
  // A bad attention_bias value is reported once, by llamaBiasGaps.
  return f.json.attention_bias === true ? { ...arch, qkvBias: true } : arch;
}

/** `llama` and `mistral`: the decoder as the estimator models it. */
export function llamaModel(f: ConfigFields, name: string): HfModel {
  const family = f.text("model_type", "llama");
  const arch = dense(f, name, readDecoder(f, { maxSeq: 4096, normEps: 1e-6 }));
  return hfModel(family, arch, llamaBiasGaps(f, arch));
}

/** `mixtral`: every FFN is `num_local_experts` routed experts, top `num_experts_per_tok`. */
export function mixtralModel(f: ConfigFields, name: string): HfModel {
  const routing = readRouting(f, "num_local_experts", { experts: 8, topK: 2 });
  const arch = { ...dense(f, name, readDecoder(f, { maxSeq: 4096, normEps: 1e-5 })), ...routing };
  return hfModel("mixtral", arch, llamaBiasGaps(f, arch));
}

/**
 * `phi3`: Llama's parameters under fused names (`qkv_proj` holds q, k and v; `gate_up_proj` holds
 * gate and up), counted as the separate matrices they are.
 */
export function phi3Model(f: ConfigFields, name: string): HfModel {
  const arch = dense(f, name, readDecoder(f, { maxSeq: 4096, normEps: 1e-5 }));
  const notes = [
    "phi3: fused qkv_proj and gate_up_proj are counted as separate q, k, v and gate, up (same parameters)",
  ];
  if (arch.window !== undefined)
    notes.push(`phi3: sliding_window ${arch.window} from config.json bounds the KV cache per sequence`);
  return hfModel("phi3", arch, llamaBiasGaps(f, arch), notes);
}
