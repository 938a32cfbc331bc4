/**
 * Model presets. Executable: `tiny` (tests) and `small` (the compare app's measured model, trained
 * by `pnpm train-small`). Estimate-only: published architectures with their sources. Parameter
 * counts are never typed in: the estimator derives them from these numbers, and a test checks them
 * against the published totals.
 */
import { type ArchSpec, closestMatch, ValueError } from "@tradeoffs/core-tensor";

const llama = {
  ffnKind: "swiglu",
  norm: "rmsnorm",
  positional: "rope",
  biases: false,
  tiedEmbeddings: false,
  experts: 1,
  topK: 1,
  sharedExperts: 0,
  capacity: Number.POSITIVE_INFINITY,
  ropeTheta: 10000,
  normEps: 1e-5,
} as const;

const gpt = {
  ffnKind: "gelu",
  norm: "layernorm",
  positional: "learned",
  biases: true,
  tiedEmbeddings: true,
  experts: 1,
  topK: 1,
  sharedExperts: 0,
  capacity: Number.POSITIVE_INFINITY,
  ropeTheta: 10000,
  normEps: 1e-5,
} as const;

/**
 * A model preset: its architecture, whether it runs here, and for published models the parameter count it is
 * checked against.
 */
export interface Preset {
  /** The architecture (published numbers for the published models). */
  readonly arch: ArchSpec;
  /** Runs here (`tiny`, `small`) or estimate-only (published models). */
  readonly executable: boolean;
  /**
   * Published total parameters and where the figure comes from (estimate-only presets). `exact`:
   * the estimator's count from `arch` equals `params` to the parameter; false when the figure is
   * rounded (GPT-3) or the checkpoint holds tensors `arch` cannot express (then `modelled` says
   * which, and the count plus `modelled.missingParams` is `params` exactly).
   */
  readonly published?: { readonly params: number; readonly exact: boolean; readonly source: string };
  /**
   * What `arch` approximates for this family: checkpoint parameters the estimator does not count
   * (negative: over-counts) and one note per approximation. Absent when the family is modelled fully.
   */
  readonly modelled?: { readonly missingParams: number; readonly notes: readonly string[] };
  /** One line for `list` and reports. */
  readonly description: string;
}

/**
 * Every model preset by name: the executable `tiny` and `small`, and published architectures (Llama 2,
 * Mixtral, …) for estimates.
 */
export const presets = {
  tiny: {
    executable: true,
    description: "2 layers, d=32, 4 heads: for tests (finite differences, decoding)",
    arch: {
      name: "tiny",
      layers: 2,
      dModel: 32,
      heads: 4,
      kvHeads: 4,
      headDim: 8,
      ffnHidden: 64,
      vocab: 64,
      maxSeq: 64,
      ...llama,
    },
  },
  small: {
    executable: true,
    description:
      "4 layers, d=192, 6 heads, byte vocabulary (1.87M parameters): trained by `pnpm train-small`",
    arch: {
      name: "small",
      layers: 4,
      dModel: 192,
      heads: 6,
      kvHeads: 6,
      headDim: 32,
      ffnHidden: 512,
      vocab: 256,
      maxSeq: 2048,
      ...llama,
    },
  },
  // GPT-2 small's layer stack (12 × d768, 12 heads of 64: 85M non-embedding parameters, Radford et
  // al. 2019) with Llama's blocks (RMSNorm, RoPE, SwiGLU at 8/3·d rounded to a multiple of 256 =
  // 2048, Touvron et al. 2023) and the byte vocabulary: 85.4M parameters, 342 MB in f32 — 45× small
  // and far beyond the caches, so decode reads its weights from memory every token (the regime the
  // published models live in). Context 4096 leaves room for Standard vs Flash at long prompts.
  medium: {
    executable: true,
    description:
      "12 layers, d=768, 12 heads, byte vocabulary (85.4M parameters), deterministic init: untrained, for time and memory",
    arch: {
      name: "medium",
      layers: 12,
      dModel: 768,
      heads: 12,
      kvHeads: 12,
      headDim: 64,
      ffnHidden: 2048,
      vocab: 256,
      maxSeq: 4096,
      ...llama,
    },
  },
  // Radford et al. 2019 and the released `gpt2` checkpoint (config.json: n_layer 12, n_embd 768,
  // n_head 12, n_positions 1024, vocab 50257); 124,439,808 parameters in the released weights.
  gpt2: {
    executable: false,
    description: "GPT-2 small (124M)",
    published: { params: 124_439_808, exact: true, source: "openai-community/gpt2 safetensors" },
    arch: {
      name: "gpt2",
      layers: 12,
      dModel: 768,
      heads: 12,
      kvHeads: 12,
      headDim: 64,
      ffnHidden: 3072,
      vocab: 50257,
      maxSeq: 1024,
      ...gpt,
    },
  },
  // Brown et al. 2020, Table 2.1: 96 layers, d_model 12288, 96 heads of 128, context 2048; the
  // paper reports "175.0B", rounded: the architecture gives 174.6B.
  "gpt3-175b": {
    executable: false,
    description: "GPT-3 175B",
    published: { params: 175e9, exact: false, source: "Brown et al. 2020, Table 2.1 (rounded to 0.5%)" },
    arch: {
      name: "gpt3-175b",
      layers: 96,
      dModel: 12288,
      heads: 96,
      kvHeads: 96,
      headDim: 128,
      ffnHidden: 49152,
      vocab: 50257,
      maxSeq: 2048,
      ...gpt,
    },
  },
  // Touvron et al. 2023 (Llama 2), Table 1 and the released config.json files.
  "llama2-7b": {
    executable: false,
    description: "Llama-2-7B",
    published: { params: 6_738_415_616, exact: true, source: "meta-llama/Llama-2-7b-hf safetensors" },
    arch: {
      name: "llama2-7b",
      layers: 32,
      dModel: 4096,
      heads: 32,
      kvHeads: 32,
      headDim: 128,
      ffnHidden: 11008,
      vocab: 32000,
      maxSeq: 4096,
      ...llama,
    },
  },
  "llama2-13b": {
    executable: false,
    description: "Llama-2-13B",
    published: { params: 13_015_864_320, exact: true, source: "meta-llama/Llama-2-13b-hf safetensors" },
    arch: {
      name: "llama2-13b",
      layers: 40,
      dModel: 5120,
      heads: 40,
      kvHeads: 40,
      headDim: 128,
      ffnHidden: 13824,
      vocab: 32000,
      maxSeq: 4096,
      ...llama,
    },
  },
  "llama2-70b": {
    executable: false,
    description: "Llama-2-70B (GQA with 8 KV heads)",
    published: { params: 68_976_648_192, exact: true, source: "meta-llama/Llama-2-70b-hf safetensors" },
    arch: {
      name: "llama2-70b",
      layers: 80,
      dModel: 8192,
      heads: 64,
      kvHeads: 8,
      headDim: 128,
      ffnHidden: 28672,
      vocab: 32000,
      maxSeq: 4096,
      ...llama,
    },
  },
  // Meta Llama 3 model card and config.json: vocab 128256, 8 KV heads, rope theta 500000.
  "llama3-8b": {
    executable: false,
    description: "Llama-3-8B (GQA with 8 KV heads)",
    published: { params: 8_030_261_248, exact: true, source: "meta-llama/Meta-Llama-3-8B safetensors" },
    arch: {
      name: "llama3-8b",
      layers: 32,
      dModel: 4096,
      heads: 32,
      kvHeads: 8,
      headDim: 128,
      ffnHidden: 14336,
      vocab: 128256,
      maxSeq: 8192,
      ...llama,
      ropeTheta: 500000,
    },
  },
  // Jiang et al. 2023 (Mistral 7B), Table 1: sliding window 4096, 8 KV heads.
  "mistral-7b": {
    executable: false,
    description: "Mistral-7B (sliding window 4096, GQA)",
    published: { params: 7_241_732_096, exact: true, source: "mistralai/Mistral-7B-v0.1 safetensors" },
    arch: {
      name: "mistral-7b",
      layers: 32,
      dModel: 4096,
      heads: 32,
      kvHeads: 8,
      headDim: 128,
      ffnHidden: 14336,
      vocab: 32000,
      maxSeq: 32768,
      window: 4096,
      ...llama,
    },
  },
  // Jiang et al. 2024 (Mixtral of Experts): 8 experts, top-2; 46.7B total, 12.9B active.
  "mixtral-8x7b": {
    executable: false,
    description: "Mixtral-8x7B (8 experts, top-2)",
    published: { params: 46_702_792_704, exact: true, source: "mistralai/Mixtral-8x7B-v0.1 safetensors" },
    arch: {
      name: "mixtral-8x7b",
      layers: 32,
      dModel: 4096,
      heads: 32,
      kvHeads: 8,
      headDim: 128,
      ffnHidden: 14336,
      vocab: 32000,
      maxSeq: 32768,
      ...llama,
      experts: 8,
      topK: 2,
      ropeTheta: 1e6,
    },
  },
  // Mixtral of Experts 8x22B (Mistral AI, 2024-04): config.json of mistralai/Mixtral-8x22B-v0.1
  // (hidden 6144, 56 layers, 48 heads, 8 KV heads, experts 8 × 16384, top-2, vocab 32000); "141B
  // parameters, 39B active".
  "mixtral-8x22b": {
    executable: false,
    description: "Mixtral-8x22B (8 experts, top-2, GQA with 8 KV heads)",
    published: { params: 140_620_634_112, exact: true, source: "mistralai/Mixtral-8x22B-v0.1 safetensors" },
    arch: {
      name: "mixtral-8x22b",
      layers: 56,
      dModel: 6144,
      heads: 48,
      kvHeads: 8,
      headDim: 128,
      ffnHidden: 16384,
      vocab: 32000,
      maxSeq: 65536,
      ...llama,
      experts: 8,
      topK: 2,
      ropeTheta: 1e6,
    },
  },
  // Qwen2.5 technical report (2024) and Qwen/Qwen2.5-0.5B config.json: hidden 896, 24 layers, 14
  // heads, 2 KV heads, FFN 4864, vocab 151936, tied embeddings, biases on q, k and v.
  "qwen2.5-0.5b": {
    executable: false,
    description: "Qwen2.5-0.5B (tied embeddings, q/k/v biases, GQA with 2 KV heads)",
    published: { params: 494_032_768, exact: true, source: "Qwen/Qwen2.5-0.5B safetensors" },
    arch: {
      name: "qwen2.5-0.5b",
      layers: 24,
      dModel: 896,
      heads: 14,
      kvHeads: 2,
      headDim: 64,
      ffnHidden: 4864,
      vocab: 151936,
      maxSeq: 32768,
      ...llama,
      tiedEmbeddings: true,
      ropeTheta: 1e6,
      normEps: 1e-6,
      qkvBias: true,
    },
  },
  // Qwen/Qwen2.5-7B config.json: hidden 3584, 28 layers, 28 heads, 4 KV heads, FFN 18944, vocab
  // 152064, untied, biases on q, k and v.
  "qwen2.5-7b": {
    executable: false,
    description: "Qwen2.5-7B (q/k/v biases, GQA with 4 KV heads)",
    published: { params: 7_615_616_512, exact: true, source: "Qwen/Qwen2.5-7B safetensors" },
    arch: {
      name: "qwen2.5-7b",
      layers: 28,
      dModel: 3584,
      heads: 28,
      kvHeads: 4,
      headDim: 128,
      ffnHidden: 18944,
      vocab: 152064,
      maxSeq: 131072,
      ...llama,
      ropeTheta: 1e6,
      normEps: 1e-6,
      qkvBias: true,
    },
  },
  // Qwen1.5-MoE-A2.7B (Qwen blog, 2024-03) and its config.json: 60 routed experts of 1408, top-4,
  // one shared expert of 5632 (= 4 × 1408) behind a sigmoid gate, q/k/v biases; "14.3B total,
  // 2.7B activated".
  "qwen1.5-moe-a2.7b": {
    executable: false,
    description: "Qwen1.5-MoE-A2.7B (60 fine-grained experts, top-4, shared expert)",
    // The 5632-wide shared expert counts as 4 shared experts of 1408: the same parameters.
    published: { params: 14_315_784_192, exact: true, source: "Qwen/Qwen1.5-MoE-A2.7B safetensors" },
    arch: {
      name: "qwen1.5-moe-a2.7b",
      layers: 24,
      dModel: 2048,
      heads: 16,
      kvHeads: 16,
      headDim: 128,
      ffnHidden: 1408,
      vocab: 151936,
      maxSeq: 8192,
      ...llama,
      experts: 60,
      topK: 4,
      sharedExperts: 4,
      sharedExpertGate: true,
      qkvBias: true,
      ropeTheta: 1e6,
      normEps: 1e-6,
    },
  },
  // Gemma (Google DeepMind, 2024), Table 1, and google/gemma-7b config.json: 28 layers, d 3072, 16
  // heads of 256 (head_dim decoupled from the width), FFN 24576 GeGLU, vocab 256000, tied.
  "gemma-7b": {
    executable: false,
    description: "Gemma-7B (head_dim 256, tied embeddings; GeGLU counted as SwiGLU)",
    published: { params: 8_537_680_896, exact: true, source: "google/gemma-7b safetensors" },
    arch: {
      name: "gemma-7b",
      layers: 28,
      dModel: 3072,
      heads: 16,
      kvHeads: 16,
      headDim: 256,
      ffnHidden: 24576,
      vocab: 256000,
      maxSeq: 8192,
      ...llama,
      tiedEmbeddings: true,
      normEps: 1e-6,
    },
  },
  // Gemma 2 (Google DeepMind, 2024), Table 1, and google/gemma-2-9b config.json: 42 layers, d 3584,
  // 16 heads of 256, 8 KV heads, FFN 14336 GeGLU, vocab 256000, tied, local (4096) and global
  // attention alternating, logit soft-capping 50 / 30, four norms per layer.
  "gemma2-9b": {
    executable: false,
    description:
      "Gemma-2-9B (head_dim 256, GQA, 4 norms per layer, 21 local (4096) + 21 global attention layers, logit soft-capping)",
    published: { params: 9_241_705_984, exact: true, source: "google/gemma-2-9b safetensors" },
    arch: {
      name: "gemma2-9b",
      layers: 42,
      dModel: 3584,
      heads: 16,
      kvHeads: 8,
      headDim: 256,
      ffnHidden: 14336,
      vocab: 256000,
      maxSeq: 8192,
      ...llama,
      tiedEmbeddings: true,
      normEps: 1e-6,
      layerNorms: 4,
      // HF's Gemma2DecoderLayer slides where layer_idx % 2 == 0: 21 of the 42 layers.
      window: 4096,
      windowLayers: 21,
      logitSoftcap: { attention: 50, final: 30 },
    },
  },
  // Phi-3 technical report (Microsoft, 2024) and microsoft/Phi-3-mini-4k-instruct config.json: 32
  // layers, d 3072, 32 heads, FFN 8192, vocab 32064, sliding_window 2047; the checkpoint fuses
  // qkv_proj and gate_up_proj (the same parameters as separate matrices).
  "phi3-mini-4k": {
    executable: false,
    description: "Phi-3-mini-4k (3.8B; fused qkv and gate/up in the checkpoint)",
    published: { params: 3_821_079_552, exact: true, source: "microsoft/Phi-3-mini-4k-instruct safetensors" },
    arch: {
      name: "phi3-mini-4k",
      layers: 32,
      dModel: 3072,
      heads: 32,
      kvHeads: 32,
      headDim: 96,
      ffnHidden: 8192,
      vocab: 32064,
      maxSeq: 4096,
      window: 2047,
      ...llama,
    },
  },
  // DeepSeekMoE (Dai et al. 2024), Table 1 (16B: 28 layers, d 2048, 16 heads, 64 routed experts of
  // 1408, top-6, 2 shared, the first layer dense) and deepseek-ai/deepseek-moe-16b-base config.json
  // (dense FFN 10944, vocab 102400). The model card says "16.4B"; the architecture gives
  // 16,375,728,128 (no exact published total found).
  "deepseek-moe-16b": {
    executable: false,
    description: "DeepSeek-MoE-16B (64 fine-grained experts, top-6, 2 shared, first layer dense)",
    published: {
      params: 16.4e9,
      exact: false,
      source: "deepseek-ai/deepseek-moe-16b-base model card (rounded)",
    },
    arch: {
      name: "deepseek-moe-16b",
      layers: 28,
      dModel: 2048,
      heads: 16,
      kvHeads: 16,
      headDim: 128,
      ffnHidden: 1408,
      vocab: 102400,
      maxSeq: 4096,
      ...llama,
      experts: 64,
      topK: 6,
      sharedExperts: 2,
      denseLayers: 1,
      denseFfnHidden: 10944,
      normEps: 1e-6,
    },
  },
  // DeepSeek-V2 (Liu et al. 2024), appendix B (V2-Lite: 27 layers, d 2048, 16 heads, MLA with
  // kv_lora_rank 512, no query compression, qk_nope 128 + qk_rope 64, v 128; 64 routed experts of
  // 1408, top-6, 2 shared, the first layer dense; "15.7B total, 2.4B activated") and
  // deepseek-ai/DeepSeek-V2-Lite config.json. Total: the Hub's safetensors metadata, 15,706,484,224.
  "deepseek-v2-lite": {
    executable: false,
    description: "DeepSeek-V2-Lite (MLA: 576-element latent KV cache; 64 experts, top-6, 2 shared)",
    published: { params: 15_706_484_224, exact: true, source: "deepseek-ai/DeepSeek-V2-Lite safetensors" },
    arch: {
      name: "deepseek-v2-lite",
      layers: 27,
      dModel: 2048,
      heads: 16,
      kvHeads: 16,
      headDim: 128,
      ffnHidden: 1408,
      vocab: 102400,
      maxSeq: 163840,
      ...llama,
      experts: 64,
      topK: 6,
      sharedExperts: 2,
      denseLayers: 1,
      denseFfnHidden: 10944,
      normEps: 1e-6,
      mla: { kvLoraRank: 512, ropeHeadDim: 64, nopeHeadDim: 128 },
    },
  },
} as const satisfies Record<string, Preset>;

/** A preset's name (`small`, `llama2-70b`, …). */
export type PresetName = keyof typeof presets;
/** Every preset name, in table order. */
export const PRESET_NAMES = Object.keys(presets) as PresetName[];

/** Published active parameters per token for MoE presets (Mixtral paper: 12.9B; 8x22B: 39B). */
export const PUBLISHED_ACTIVE: Partial<Record<PresetName, number>> = {
  "mixtral-8x7b": 12_879_925_248,
  // Mistral AI's announcement: "39B active parameters out of 141B"; the exact figure from the config.
  "mixtral-8x22b": 39_152_031_744,
};

/** Look a preset up by name (case-insensitive); a `ValueError` lists the names and the closest one. */
export function getPreset(name: string): Preset & { name: PresetName } {
  const key = PRESET_NAMES.find((k) => k.toLowerCase() === name.toLowerCase());
  if (!key) {
    const near = closestMatch(name, PRESET_NAMES);
    throw new ValueError(
      `unknown model '${name}'${near ? ` (did you mean '${near}'?)` : ""}; presets: ${PRESET_NAMES.join(", ")}`,
      { model: name },
    );
  }
  return { ...presets[key], name: key };
}
