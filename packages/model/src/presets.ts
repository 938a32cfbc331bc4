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

export interface Preset {
  readonly arch: ArchSpec;
  /** Runs here (`tiny`, `small`) or estimate-only (published models). */
  readonly executable: boolean;
  /** Published total parameters and where the figure comes from (estimate-only presets). */
  readonly published?: { readonly params: number; readonly exact: boolean; readonly source: string };
  readonly description: string;
}

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
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof presets;
export const PRESET_NAMES = Object.keys(presets) as PresetName[];

/** Published active parameters per token for MoE presets (Mixtral paper: 12.9B). */
export const PUBLISHED_ACTIVE: Partial<Record<PresetName, number>> = { "mixtral-8x7b": 12_879_925_248 };

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
