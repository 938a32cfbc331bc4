/**
 * Gemma (`gemma`) and Gemma 2 (`gemma2`): head_dim decoupled from the width, tied embeddings by
 * default, a GELU-gated FFN (GeGLU), and in Gemma 2 four norms per layer, alternating local
 * (sliding-window) and global attention, and tanh soft-capping of attention and final logits.
 * Not here: the shared decoder fields (decoder.ts).
 */
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
 * `gemma2`: Gemma plus a post-attention and a post-FFN norm in each layer (4 norms where the
 * estimator counts 2), sliding-window attention on every other layer, and logit soft-capping.
 */
export function gemma2Model(f: ConfigFields, name: string): HfModel {
  const dec = readDecoder(f, { maxSeq: 8192, normEps: 1e-6 });
  const ffn = f.int("intermediate_size", HF_LIMITS.intermediate_size);
  const arch = llamaLike(name, dec, ffn, f.flag("tie_word_embeddings", true));
  const window = f.optInt("sliding_window", HF_LIMITS.max_position_embeddings);
  const notes = [geglu(f)];
  if (window !== undefined)
    notes.push(
      `alternating attention: every other layer attends to the last ${window} tokens; KV and attention FLOPs are counted as global in every layer (an upper bound past ${window} tokens)`,
    );
  const caps = ["attn_logit_softcapping", "final_logit_softcapping"].filter((k) => f.has(k));
  if (caps.length > 0) notes.push(`${caps.join(" and ")} (tanh, no parameters) not modelled in FLOPs`);
  return hfModel(
    "gemma2",
    arch,
    [
      {
        params: 2 * dec.layers * dec.d,
        note: "post_attention_layernorm and post_feedforward_layernorm per layer",
      },
    ],
    notes,
  );
}
