/**
 * DeepSeek-MoE (`deepseek`) and DeepSeek-V2 (`deepseek_v2`): fine-grained routed experts plus
 * always-on shared experts, the first `first_k_dense_replace` layers dense; V2 adds multi-head
 * latent attention (MLA), whose KV cache holds one compressed latent per token instead of K and V.
 * Both are counted exactly (`denseLayers`, `mla`). Not here: shared fields (decoder.ts).
 */
import type { ArchSpec } from "@tradeoffs/core-tensor";
import { type HfModel, hfModel, llamaLike, readDecoder, readRouting } from "./decoder.js";
import { type ConfigFields, HF_LIMITS } from "./fields.js";

/** The MoE part both versions share: routed and shared experts, and the dense layers. */
function deepseekMoe(f: ConfigFields, layers: number): Partial<ArchSpec> {
  const { experts, topK } = readRouting(f, "n_routed_experts");
  const shared = f.int("n_shared_experts", HF_LIMITS.experts, 0, 0);
  const F = f.int("moe_intermediate_size", HF_LIMITS.intermediate_size);
  const denseWidth = f.int("intermediate_size", HF_LIMITS.intermediate_size);
  const firstDense = f.int("first_k_dense_replace", HF_LIMITS.num_hidden_layers, 0, 0);
  const freq = f.int("moe_layer_freq", HF_LIMITS.num_hidden_layers, 1);
  // DeepSeek's modeling code: layer i is MoE when i >= first_k_dense_replace and i % moe_layer_freq == 0.
  let denseLayers = 0;
  for (let i = 0; i < layers; i++) if (i < firstDense || i % freq !== 0) denseLayers++;
  // Its shared experts are one MLP of n_shared_experts · moe_intermediate_size: the same matrices.
  return { experts, topK, sharedExperts: shared, ffnHidden: F, denseLayers, denseFfnHidden: denseWidth };
}

/** `deepseek` (DeepSeek-MoE 16B): Llama attention, DeepSeekMoE FFNs; counted exactly. */
export function deepseekModel(f: ConfigFields, name: string): HfModel {
  const dec = readDecoder(f, { maxSeq: 4096, normEps: 1e-6 });
  const arch: ArchSpec = {
    ...llamaLike(name, dec, 1, f.flag("tie_word_embeddings", false)),
    ...deepseekMoe(f, dec.layers),
  };
  return hfModel("deepseek", arch, []);
}

/**
 * `deepseek_v2`: MLA attention (q through an optional `q_lora_rank` bottleneck; K and V expanded by
 * `kv_b_proj` from a `kv_lora_rank` latent plus one shared `qk_rope_head_dim` RoPE key) with
 * DeepSeekMoE FFNs; counted exactly, the cache as the latent it holds. `headDim` is `v_head_dim`.
 */
export function deepseekV2Model(f: ConfigFields, name: string): HfModel {
  const nope = f.int("qk_nope_head_dim", HF_LIMITS.head_dim);
  const rope = f.int("qk_rope_head_dim", HF_LIMITS.head_dim);
  const vDim = f.int("v_head_dim", HF_LIMITS.head_dim);
  const kvRank = f.int("kv_lora_rank", HF_LIMITS.hidden_size);
  const qRank = f.optInt("q_lora_rank", HF_LIMITS.hidden_size);
  const dec = readDecoder(f, { maxSeq: 163840, normEps: 1e-6, headDim: vDim });
  const arch: ArchSpec = {
    ...llamaLike(name, { ...dec, kvHeads: dec.heads }, 1, f.flag("tie_word_embeddings", false)),
    ...deepseekMoe(f, dec.layers),
    mla: { kvLoraRank: kvRank, qLoraRank: qRank, ropeHeadDim: rope, nopeHeadDim: nope },
  };
  return hfModel(
    "deepseek_v2",
    arch,
    [],
    [
      `MLA computed as its checkpoint runs it (K and V expanded per head from the latent); an engine that absorbs kv_b_proj into q and o scores against the ${kvRank + rope}-element latent instead`,
    ],
  );
}
