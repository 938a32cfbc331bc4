/**
 * Export a Transformer as a llama-architecture GGUF that llama.cpp runs: `llama.*` hyperparameters,
 * the byte-vocabulary tokenizer, llama.cpp tensor names, Q/K rows permuted for its RoPE, linear
 * weights in the model's own format (FP32/FP16/BF16/Q8_0/Q4_0, bytes as stored). Embeddings, norms
 * and the head stay F32, as in our model. Not here: reading (import.ts) or MoE/LoRA/windowed models.
 */
import {
  type ArchSpec,
  type GgufTensorInput,
  type GgufValue,
  ggufFromF32,
  type LinearWeight,
  saveGguf,
  type Tensor,
  ValueError,
  writeGguf,
} from "@tradeoffs/core-tensor";
import { PackedLinear } from "@tradeoffs/quant";
import { host } from "#host";
import type { Transformer } from "../transformer.js";
import { byteVocabMetadata } from "./byte-vocab.js";
import {
  FILE_TYPE,
  GGUF_WEIGHT_FORMATS,
  type GgufWeightFormat,
  LLAMA_KEYS,
  llamaLayout,
  permuteRopeRows,
} from "./llama-layout.js";

/** Slots whose strategy is a choice of the engine at run time, not something a weights file holds. */
const RUNTIME_SLOTS = ["backend", "attention", "checkpoint", "kv-dtype", "kv-memory"] as const;

/** Options of `exportGguf`. */
export interface GgufExportOptions {
  /** `general.name`; default the architecture's name. */
  readonly name?: string;
}

/** What `exportGguf` wrote. */
export interface GgufExportResult {
  /** The file written. */
  readonly path: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** Tensors written. */
  readonly tensors: number;
  /** Tensor count per ggml type. */
  readonly types: Readonly<Record<string, number>>;
  /** The configuration's run-time strategies the file does not carry (llama.cpp chooses its own). */
  readonly notCarried: readonly string[];
}

/** Why `model` cannot be a llama GGUF (every reason), or an empty list. */
function problems(model: Transformer): string[] {
  const a = model.arch;
  const out: string[] = [];
  const fmt = model.layers[0]?.q.format ?? "FP32";
  if (!(fmt in GGUF_WEIGHT_FORMATS))
    out.push(
      `weights ${fmt} cannot be stored in GGUF; GGUF holds ${Object.keys(GGUF_WEIGHT_FORMATS).join(", ")}${fmt === "FP32x8" ? " (FP32x8 holds FP32's values in our decode layout: export the FP32 configuration)" : ""}`,
    );
  if (model.config.get("adapters"))
    out.push(
      `adapters ${model.config.get("adapters")!.label} are not part of a llama GGUF; merge them first`,
    );
  if (a.experts > 1 || model.config.get("ffn")?.name !== "Dense")
    out.push(`ffn ${model.config.get("ffn")?.label ?? "?"}: only the dense SwiGLU FFN exports (ffn Dense)`);
  if (a.window !== undefined) out.push(`a sliding window (${a.window}) has no llama-architecture key`);
  if (a.ffnKind !== "swiglu" || a.norm !== "rmsnorm" || a.positional !== "rope" || a.biases)
    out.push("the llama architecture needs SwiGLU, RMSNorm, RoPE and no biases");
  if (a.headDim % 2 !== 0) out.push(`head dimension ${a.headDim} must be even for RoPE`);
  return out;
}

function hyperparameters(a: ArchSpec, format: GgufWeightFormat, name: string, label: string) {
  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const meta: [string, GgufValue][] = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: name }],
    ["general.file_type", u32(FILE_TYPE[format])],
    ["general.alignment", u32(32)],
    ["general.description", { type: "string", value: `tradeoffs ${label}` }],
    [LLAMA_KEYS.contextLength, u32(a.maxSeq)],
    [LLAMA_KEYS.embeddingLength, u32(a.dModel)],
    [LLAMA_KEYS.blockCount, u32(a.layers)],
    [LLAMA_KEYS.feedForwardLength, u32(a.ffnHidden)],
    [LLAMA_KEYS.ropeDimensionCount, u32(a.headDim)],
    [LLAMA_KEYS.headCount, u32(a.heads)],
    [LLAMA_KEYS.headCountKv, u32(a.kvHeads)],
    [LLAMA_KEYS.rmsEps, { type: "f32", value: a.normEps }],
    [LLAMA_KEYS.ropeFreqBase, { type: "f32", value: a.ropeTheta }],
    [LLAMA_KEYS.vocabSize, u32(a.vocab)],
  ];
  if (a.headDim * a.heads !== a.dModel)
    meta.push([LLAMA_KEYS.keyLength, u32(a.headDim)], [LLAMA_KEYS.valueLength, u32(a.headDim)]);
  return meta;
}

function f32Bytes(t: Tensor): Uint8Array {
  return ggufFromF32("F32", t.data);
}

/** A linear weight's stored bytes in its GGUF type (packed formats: the packed bytes themselves). */
function linearBytes(w: LinearWeight): Uint8Array {
  if (w instanceof PackedLinear) return w.packed.data.slice();
  const f = w.dequantize(); // FP32: an f32 copy [out, in]
  try {
    return f32Bytes(f);
  } finally {
    f.dispose();
  }
}

/** The metadata and tensors of `model` as a llama GGUF (throws a ValueError listing every problem). */
export function ggufContents(
  model: Transformer,
  options: GgufExportOptions = {},
): { metadata: [string, GgufValue][]; tensors: GgufTensorInput[]; notCarried: string[] } {
  const bad = problems(model);
  if (bad.length > 0)
    throw new ValueError(
      `cannot export ${model.config.label} on ${model.arch.name} as a llama GGUF: ${bad.join("; ")}`,
      {
        problems: bad,
        formats: Object.keys(GGUF_WEIGHT_FORMATS),
      },
    );
  const a = model.arch;
  const format = (model.layers[0]?.q.format ?? "FP32") as GgufWeightFormat;
  const metadata = [
    ...hyperparameters(a, format, options.name ?? a.name, model.config.label),
    ...byteVocabMetadata(a.vocab),
  ];
  const linears = new Map<string, LinearWeight>();
  model.layers.forEach((l, i) => {
    for (const p of ["q", "k", "v", "o"] as const) linears.set(`${i}.${p}`, l[p]);
    for (const [n, w] of l.ffn.namedWeights()) if ("apply" in w) linears.set(`${i}.${n}`, w);
  });
  const f32 = new Map<string, Tensor>([
    ["model.embed_tokens.weight", model.embed],
    ["model.norm.weight", model.norm],
  ]);
  if (model.head) f32.set("lm_head.weight", model.head);
  model.layers.forEach((l, i) => {
    f32.set(`model.layers.${i}.input_layernorm.weight`, l.attnNorm);
    f32.set(`model.layers.${i}.post_attention_layernorm.weight`, l.ffnNorm);
  });
  const roles = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];
  const ours = ["q", "k", "v", "o", "gate", "up", "down"];
  const tensors: GgufTensorInput[] = llamaLayout(a.layers, model.head === null).map((e) => {
    if (!e.linear) {
      const t = f32.get(e.hf)!;
      return { name: e.gguf, shape: t.shape, type: "F32", data: f32Bytes(t) };
    }
    const [, layer, role] = /^blk\.(\d+)\.(\w+)\.weight$/.exec(e.gguf)!;
    const w = linears.get(`${layer}.${ours[roles.indexOf(role!)]}`)!;
    const type = GGUF_WEIGHT_FORMATS[w.format as GgufWeightFormat];
    if (type === undefined)
      throw new ValueError(
        `cannot export '${e.hf}': weights ${w.format} cannot be stored in GGUF; GGUF holds ${Object.keys(GGUF_WEIGHT_FORMATS).join(", ")}`,
        { format: w.format },
      );
    let data = linearBytes(w);
    if (e.ropeHeads) {
      const heads = e.ropeHeads === "heads" ? a.heads : a.kvHeads;
      data = permuteRopeRows(data, heads, a.headDim, data.length / w.outFeatures, true);
    }
    return { name: e.gguf, shape: [w.outFeatures, w.inFeatures], type, data };
  });
  const notCarried = RUNTIME_SLOTS.flatMap((s) => {
    const st = model.config.get(s);
    return st ? [`${s}: ${st.label}`] : [];
  });
  return { metadata, tensors, notCarried };
}

/** GGUF bytes of `model` (see `exportGguf`). */
export function ggufBytes(model: Transformer, options: GgufExportOptions = {}): Uint8Array {
  const { metadata, tensors } = ggufContents(model, options);
  return writeGguf(new Map(metadata), tensors);
}

/**
 * Write `model` to `path` as a llama-architecture GGUF (atomically). Throws a `ValueError` listing
 * every reason when the model or its weight format has no GGUF form.
 */
export function exportGguf(
  model: Transformer,
  path: string,
  options: GgufExportOptions = {},
): GgufExportResult {
  const { metadata, tensors, notCarried } = ggufContents(model, options);
  saveGguf(path, new Map(metadata), tensors);
  const types: Record<string, number> = {};
  for (const t of tensors) {
    const k = typeof t.type === "string" ? t.type : t.type.name;
    types[k] = (types[k] ?? 0) + 1;
  }
  return { path, bytes: host.fileSize(path), tensors: tensors.length, types, notCarried };
}
