/**
 * How our Transformer maps onto llama.cpp's "llama" architecture: tensor names, the `llama.*`
 * hyperparameter keys, the weight formats GGUF holds, and the Q/K row permutation between the two
 * RoPE pairings. Facts and pure functions only; export.ts and import.ts use them.
 * Sources: llama.cpp src/llama-arch.cpp (LLM_ARCH_LLAMA tensor names, LLM_KV keys), src/llama-model.cpp
 * (llama hparams), convert_hf_to_gguf.py (LlamaModel.permute), include/llama.h (llama_ftype).
 */
import { weightName } from "../transformer.js";

/** The weight formats (our strategy names) a GGUF file holds, and their ggml tensor types. */
export const GGUF_WEIGHT_FORMATS = {
  FP32: "F32",
  FP16: "F16",
  BF16: "BF16",
  Q8_0: "Q8_0",
  Q4_0: "Q4_0",
} as const;
/** A weight format a GGUF file can hold (`FP32`, `FP16`, `BF16`, `Q8_0`, `Q4_0`). */
export type GgufWeightFormat = keyof typeof GGUF_WEIGHT_FORMATS;

/** `general.file_type` (llama.cpp's `llama_ftype`) for each format: ALL_F32, MOSTLY_F16, ... */
export const FILE_TYPE: Readonly<Record<GgufWeightFormat, number>> = {
  FP32: 0,
  FP16: 1,
  Q4_0: 2,
  Q8_0: 7,
  BF16: 32,
};

/** Our weight format for a ggml type name, if it is one we run. */
export function formatOfGgmlType(type: string): GgufWeightFormat | undefined {
  for (const [f, t] of Object.entries(GGUF_WEIGHT_FORMATS)) if (t === type) return f as GgufWeightFormat;
  return undefined;
}

/** Linear-layer roles in a dense llama block, with their GGUF and Hugging Face names. */
const LINEARS = [
  ["attn_q", (i: number) => weightName.attn(i, "q")],
  ["attn_k", (i: number) => weightName.attn(i, "k")],
  ["attn_v", (i: number) => weightName.attn(i, "v")],
  ["attn_output", (i: number) => weightName.attn(i, "o")],
  ["ffn_gate", (i: number) => weightName.ffn(i, "gate")],
  ["ffn_up", (i: number) => weightName.ffn(i, "up")],
  ["ffn_down", (i: number) => weightName.ffn(i, "down")],
] as const;

/** One tensor of the layout: GGUF name, our (Hugging Face) name, and whether it is a linear weight. */
export interface LayoutEntry {
  readonly gguf: string;
  readonly hf: string;
  readonly linear: boolean;
  /** Q and K rows are permuted for llama.cpp's adjacent-pair RoPE: the head count to permute over. */
  readonly ropeHeads?: "heads" | "kvHeads";
}

/** Every tensor of a dense llama model with `layers` blocks; `tied` drops `output.weight`. */
export function llamaLayout(layers: number, tied: boolean): LayoutEntry[] {
  const out: LayoutEntry[] = [{ gguf: "token_embd.weight", hf: weightName.embed, linear: false }];
  for (let i = 0; i < layers; i++) {
    out.push({ gguf: `blk.${i}.attn_norm.weight`, hf: weightName.attnNorm(i), linear: false });
    for (const [g, hf] of LINEARS) {
      const ropeHeads = g === "attn_q" ? "heads" : g === "attn_k" ? "kvHeads" : undefined;
      out.push({
        gguf: `blk.${i}.${g}.weight`,
        hf: hf(i),
        linear: true,
        ...(ropeHeads ? { ropeHeads } : {}),
      });
    }
    out.push({ gguf: `blk.${i}.ffn_norm.weight`, hf: weightName.ffnNorm(i), linear: false });
  }
  out.push({ gguf: "output_norm.weight", hf: weightName.norm, linear: false });
  if (!tied) out.push({ gguf: "output.weight", hf: weightName.head, linear: false });
  return out;
}

/**
 * Reorder the rows of a Q or K projection [heads·D, in] stored as `rowBytes` bytes per row. Our RoPE
 * rotates pairs (j, j + D/2) of each head; llama.cpp's llama architecture rotates (2j, 2j + 1).
 * `toLlama`: llama row 2j + s = our row s·D/2 + j (convert_hf_to_gguf.py's `permute`); otherwise
 * the inverse. Rows move whole, so quantised blocks (which never cross a row) move unchanged.
 */
export function permuteRopeRows(
  data: Uint8Array,
  heads: number,
  headDim: number,
  rowBytes: number,
  toLlama: boolean,
): Uint8Array {
  const out = new Uint8Array(data.length);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      for (let s = 0; s < 2; s++) {
        const ours = h * headDim + s * half + j;
        const theirs = h * headDim + 2 * j + s;
        const [from, to] = toLlama ? [ours, theirs] : [theirs, ours];
        out.set(data.subarray(from * rowBytes, (from + 1) * rowBytes), to * rowBytes);
      }
    }
  }
  return out;
}

/** The `llama.*` hyperparameter keys (llama.cpp LLM_KV_*, with the architecture prefix). */
export const LLAMA_KEYS = {
  contextLength: "llama.context_length",
  embeddingLength: "llama.embedding_length",
  blockCount: "llama.block_count",
  feedForwardLength: "llama.feed_forward_length",
  ropeDimensionCount: "llama.rope.dimension_count",
  headCount: "llama.attention.head_count",
  headCountKv: "llama.attention.head_count_kv",
  rmsEps: "llama.attention.layer_norm_rms_epsilon",
  ropeFreqBase: "llama.rope.freq_base",
  keyLength: "llama.attention.key_length",
  valueLength: "llama.attention.value_length",
  vocabSize: "llama.vocab_size",
} as const;
