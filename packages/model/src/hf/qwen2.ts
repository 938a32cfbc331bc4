/**
 * Qwen2 / Qwen2.5 (`qwen2`: biases on q, k and v only, tied embeddings on small sizes) and Qwen-MoE
 * (`qwen2_moe`: fine-grained routed experts plus one gated shared expert), counted exactly through
 * `qkvBias`, `sharedExpertGate` and `denseLayers`. Not here: the shared decoder fields (decoder.ts).
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

/**
 * `use_sliding_window`: HF's Qwen2 attention slides over `sliding_window` tokens in the layers with
 * index ≥ `max_window_layers`, the lower layers attend globally; off by default (every released config).
 */
function qwenWindow(f: ConfigFields, layers: number): Partial<ArchSpec> {
  if (!f.flag("use_sliding_window", false)) return {};
  const window = f.int("sliding_window", HF_LIMITS.max_position_embeddings);
  const lower = f.int("max_window_layers", HF_LIMITS.num_hidden_layers, 28, 0);
  const windowLayers = Math.max(0, layers - lower);
  return windowLayers > 0 ? { window, windowLayers } : {};
}

/** `qwen2`: Llama's layout plus q/k/v biases; counted exactly. */
export function qwen2Model(f: ConfigFields, name: string): HfModel {
  const dec = readDecoder(f, { maxSeq: 32768, normEps: 1e-6 });
  const ffn = f.int("intermediate_size", HF_LIMITS.intermediate_size);
  const arch: ArchSpec = {
    ...llamaLike(name, dec, ffn, f.flag("tie_word_embeddings", false)),
    qkvBias: true,
    ...qwenWindow(f, dec.layers),
  };
  return hfModel("qwen2", arch, []);
}

/**
 * `qwen2_moe` (Qwen1.5-MoE, Qwen2-MoE): `num_experts` routed experts of width
 * `moe_intermediate_size`, top `num_experts_per_tok`, and a shared expert of width
 * `shared_expert_intermediate_size` behind a sigmoid gate (`shared_expert_gate`, d → 1). The shared
 * expert counts as `sharedExperts` routed-width experts (a width that is not a multiple is a named
 * gap); layers outside `decoder_sparse_step` or in `mlp_only_layers` are dense FFNs of
 * `intermediate_size`.
 */
export function qwen2MoeModel(f: ConfigFields, name: string): HfModel {
  const dec = readDecoder(f, { maxSeq: 32768, normEps: 1e-6 });
  const { experts, topK } = readRouting(f, "num_experts", { experts: 60, topK: 4 });
  const F = f.int("moe_intermediate_size", HF_LIMITS.intermediate_size);
  const sharedWidth = f.int("shared_expert_intermediate_size", HF_LIMITS.intermediate_size, 0, 0);
  const denseWidth = f.int("intermediate_size", HF_LIMITS.intermediate_size);
  const step = f.int("decoder_sparse_step", HF_LIMITS.num_hidden_layers, 1);
  const mlpOnly = new Set(f.intList("mlp_only_layers", HF_LIMITS.num_hidden_layers));
  const shared = Math.floor(sharedWidth / F);
  // Qwen2MoeDecoderLayer: sparse when layer i is not in mlp_only_layers and (i + 1) % step == 0.
  let moeLayers = 0;
  for (let i = 0; i < dec.layers; i++) if (!mlpOnly.has(i) && (i + 1) % step === 0) moeLayers++;
  const arch: ArchSpec = {
    ...llamaLike(name, dec, F, f.flag("tie_word_embeddings", false)),
    qkvBias: true,
    experts,
    topK,
    sharedExperts: shared,
    sharedExpertGate: sharedWidth > 0,
    ...(moeLayers < dec.layers ? { denseLayers: dec.layers - moeLayers, denseFfnHidden: denseWidth } : {}),
    ...qwenWindow(f, dec.layers),
  };
  const gaps: Gap[] = [
    {
      params: moeLayers * gatedFfnParams(dec.d, sharedWidth - shared * F),
      note: `shared expert width ${sharedWidth} is not a multiple of the expert width ${F}`,
    },
  ];
  return hfModel("qwen2_moe", arch, gaps);
}
