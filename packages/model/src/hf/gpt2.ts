/**
 * GPT-2's config.json (`n_embd`, `n_layer`, `n_head`, learned positions, LayerNorm and biases
 * everywhere, a GELU MLP) as the estimator models it. Not here: Llama-shaped families (llama.ts).
 */
import type { HfModel } from "./decoder.js";
import { hfModel } from "./decoder.js";
import { type ConfigFields, HF_LIMITS } from "./fields.js";

/** `gpt2`: counted exactly (the released 124M checkpoint: 124,439,808 parameters). */
export function gpt2Model(f: ConfigFields, name: string): HfModel {
  const d = f.int("n_embd", HF_LIMITS.hidden_size);
  const heads = f.int("n_head", HF_LIMITS.num_attention_heads);
  const headDim = d / heads;
  if (Number.isFinite(headDim) && !Number.isInteger(headDim))
    f.problem(`n_embd (${d}) / n_head (${heads}) = ${headDim.toFixed(2)} is not an integer head size`);
  return hfModel(
    "gpt2",
    {
      name,
      layers: f.int("n_layer", HF_LIMITS.num_hidden_layers),
      dModel: d,
      heads,
      kvHeads: heads,
      headDim,
      ffnHidden: f.int("n_inner", HF_LIMITS.intermediate_size, 4 * d),
      ffnKind: "gelu",
      vocab: f.int("vocab_size", HF_LIMITS.vocab_size),
      tiedEmbeddings: f.flag("tie_word_embeddings", true),
      norm: "layernorm",
      positional: "learned",
      maxSeq: f.int("n_positions", HF_LIMITS.max_position_embeddings, 1024),
      biases: true,
      experts: 1,
      topK: 1,
      sharedExperts: 0,
      capacity: Number.POSITIVE_INFINITY,
      ropeTheta: 10000,
      normEps: f.positive("layer_norm_epsilon", 1e-5),
    },
    [],
  );
}
