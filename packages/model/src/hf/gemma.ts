/**
 * Gemma (`gemma`) and Gemma 2 (`gemma2`): head_dim decoupled from the width, tied embeddings by
 * default, a GELU-gated FFN (GeGLU), and in Gemma 2 four norms per layer, alternating local
 * (sliding-window) and global attention, and tanh soft-capping of attention and final logits; all
 * counted exactly (GeGLU as SwiGLU's three matrices).
 * Not here: the shared decoder fields (decoder.ts).
 */
import type { ArchSpec } from "@tradeoffs/core-tensor";
import { type HfModel, hfModel, llamaLike, readDecoder } from "./decoder.js";
import { type ConfigFields, HF_LIMITS } from "./fields.js";

function geglu(f: ConfigFields): string {
  const act = f.has("hidden_activation")
    ? f.text("hidden_activation", "gelu_pytorch_tanh")
    : f.text("hidden_act", "gelu_pytorch_tanh");
  return `${act}-gated FFN (GeGLU) counted as SwiGLU: the same three matrices and matmul FLOPs`;
}

/** `gemma`: counted exactly (GeGLU has SwiGLU's three matrices). */
export function gemmaModel(f: ConfigFields, name: string): HfModel {
  const dec = readDecoder(f, { maxSeq: 8192, normEps: 1e-6 });
  const ffn = f.int("intermediate_size", HF_LIMITS.intermediate_size);
  return hfModel("gemma", llamaLike(name, dec, ffn, f.flag("tie_word_embeddings", true)), [], [geglu(f)]);
}

/**
 * `gemma2`: Gemma plus a post-attention and a post-FFN norm in each layer (`layerNorms` 4),
 * sliding-window attention on the even layers (`windowLayers`: ⌈layers / 2⌉; HF's Gemma2 decoder
 * slides where `layer_idx % 2 == 0`), and tanh soft-capping of attention and final logits.
 */
export function gemma2Model(f: ConfigFields, name: string): HfModel {
  const dec = readDecoder(f, { maxSeq: 8192, normEps: 1e-6 });
  const ffn = f.int("intermediate_size", HF_LIMITS.intermediate_size);
  const window = f.optInt("sliding_window", HF_LIMITS.max_position_embeddings);
  const attention = f.has("attn_logit_softcapping") ? f.positive("attn_logit_softcapping", 1) : undefined;
  const final = f.has("final_logit_softcapping") ? f.positive("final_logit_softcapping", 1) : undefined;
  const arch: ArchSpec = {
    ...llamaLike(name, dec, ffn, f.flag("tie_word_embeddings", true)),
    layerNorms: 4,
    window,
    windowLayers: window === undefined ? undefined : Math.ceil(dec.layers / 2),
    logitSoftcap: attention === undefined && final === undefined ? undefined : { attention, final },
  };
  return hfModel("gemma2", arch, [], [geglu(f)]);
}
