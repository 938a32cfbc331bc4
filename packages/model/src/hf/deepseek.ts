/**
 * DeepSeek-MoE (`deepseek`) and DeepSeek-V2 (`deepseek_v2`): fine-grained routed experts plus
 * always-on shared experts, the first `first_k_dense_replace` layers dense; V2 adds multi-head
 * latent attention (MLA), whose KV cache holds one compressed latent per token instead of K and V.
 * What `ArchSpec` cannot express yet is returned as named gaps. Not here: shared fields (decoder.ts).
 */
import type { ArchSpec } from "@tradeoffs/core-tensor";
import {
  type Gap,
  gatedFfnParams,
  type HfModel,
  hfModel,
  llamaLike,
  readDecoder,
  readRouting,
} from "./decoder.js";
import { type ConfigFields, HF_LIMITS } from "./fields.js";

/** The MoE part both versions share, and the gap for their dense layers. */
function deepseekMoe(f: ConfigFields, d: number, layers: number): { moe: Partial<ArchSpec>; dense: Gap } {
  const { experts, topK } = readRouting(f, "n_routed_experts");
  const shared = f.int("n_shared_experts", HF_LIMITS.experts, 0, 0);
  const F = f.int("moe_intermediate_size", HF_LIMITS.intermediate_size);
  const denseWidth = f.int("intermediate_size", HF_LIMITS.intermediate_size);
  const firstDense = f.int("first_k_dense_replace", HF_LIMITS.num_hidden_layers, 0, 0);
  const freq = f.int("moe_layer_freq", HF_LIMITS.num_hidden_layers, 1);
  // DeepSeek's modeling code: layer i is MoE when i >= first_k_dense_replace and i % moe_layer_freq == 0.
  let denseLayers = 0;
  for (let i = 0; i < layers; i++) if (i < firstDense || i % freq !== 0) denseLayers++;
  const countedFfn = (experts + shared) * gatedFfnParams(d, F) + d * experts;
  return {
    moe: { experts, topK, sharedExperts: shared, ffnHidden: F },
    dense: {
      params: denseLayers * (gatedFfnParams(d, denseWidth) - countedFfn),
      note: `${denseLayers} dense FFN layer(s) of width ${denseWidth} (first_k_dense_replace ${firstDense}, moe_layer_freq ${freq}) counted as MoE layers`,
    },
  };
}

/** `deepseek` (DeepSeek-MoE 16B): Llama attention, DeepSeekMoE FFNs. */
export function deepseekModel(f: ConfigFields, name: string): HfModel {
  const dec = readDecoder(f, { maxSeq: 4096, normEps: 1e-6 });
  const { moe, dense } = deepseekMoe(f, dec.d, dec.layers);
  const arch: ArchSpec = { ...llamaLike(name, dec, 1, f.flag("tie_word_embeddings", false)), ...moe };
  return hfModel("deepseek", arch, [dense]);
}

/**
 * `deepseek_v2`: MLA attention (q through an optional `q_lora_rank` bottleneck; K and V expanded by
 * `kv_b_proj` from a `kv_lora_rank` latent plus one shared `qk_rope_head_dim` RoPE key) with
 * DeepSeekMoE FFNs. Modelled as multi-head attention with `v_head_dim`-wide heads; the parameter gap
 * and the cache the estimate over-counts are stated.
 */
export function deepseekV2Model(f: ConfigFields, name: string): HfModel {
  const nope = f.int("qk_nope_head_dim", HF_LIMITS.head_dim);
  const rope = f.int("qk_rope_head_dim", HF_LIMITS.head_dim);
  const vDim = f.int("v_head_dim", HF_LIMITS.head_dim);
  const kvRank = f.int("kv_lora_rank", HF_LIMITS.hidden_size);
  const qRank = f.optInt("q_lora_rank", HF_LIMITS.hidden_size);
  const dec = readDecoder(f, { maxSeq: 163840, normEps: 1e-6, headDim: vDim });
  const { d, heads: H } = dec;
  const { moe, dense } = deepseekMoe(f, d, dec.layers);
  // MLA as the checkpoint stores it (DeepSeek-V2 paper, section 2.1, and modeling_deepseek.py):
  // q_proj d → H·(nope+rope), or q_a_proj d → qRank, q_a_layernorm, q_b_proj qRank → H·(nope+rope);
  // kv_a_proj_with_mqa d → kvRank + rope, kv_a_layernorm, kv_b_proj kvRank → H·(nope+v); o_proj H·v → d.
  const qOut = H * (nope + rope);
  const qParams = qRank === undefined ? d * qOut : d * qRank + qRank + qRank * qOut;
  const mla = qParams + d * (kvRank + rope) + kvRank + kvRank * H * (nope + vDim) + H * vDim * d;
  const counted = 4 * d * H * vDim;
  const arch: ArchSpec = {
    ...llamaLike(name, { ...dec, kvHeads: H }, 1, f.flag("tie_word_embeddings", false)),
    ...moe,
  };
  const latent = kvRank + rope;
  const full = 2 * H * vDim;
  return hfModel(
    "deepseek_v2",
    arch,
    [
      { params: dec.layers * (mla - counted), note: "MLA projections counted as multi-head q, k, v, o" },
      dense,
    ],
    [
      `MLA modelled as ${H}-head attention of ${vDim} dims: its cache holds kv_lora_rank + qk_rope_head_dim = ${latent} elements per token and layer, the estimate ${full} (K and V), ${(full / latent).toFixed(1)}× too many`,
      `MLA scores use ${nope + rope} dims per head (qk_nope_head_dim + qk_rope_head_dim); attention FLOPs are counted with ${vDim}`,
    ],
  );
}
