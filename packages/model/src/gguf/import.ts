/**
 * Read a llama-architecture GGUF: its architecture and per-type weight bytes from the header alone
 * (for estimates), or the whole model into a Transformer (F32/F16/BF16/Q8_0/Q4_0 tensors, Q/K rows
 * un-permuted back to our RoPE pairing) through `Transformer.create`'s weight map.
 * Not here: other architectures, MoE GGUFs, or tokenizers other than our byte vocabulary.
 */
import {
  type ArchSpec,
  type Configuration,
  FormatError,
  type GgufFile,
  type GgufHeader,
  ggufToF32,
  loadGguf,
  loadGgufHeader,
  type Tensor,
  tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import { parse } from "../registry.js";
import { Transformer, type WeightMap } from "../transformer.js";
import {
  formatOfGgmlType,
  GGUF_WEIGHT_FORMATS,
  type GgufWeightFormat,
  LLAMA_KEYS,
  llamaLayout,
  permuteRopeRows,
} from "./llama-layout.js";

const ARCHITECTURES = ["llama"] as const;

function num(h: GgufHeader, key: string, fallback?: number): number {
  const v = h.metadata.get(key);
  if (!v) {
    if (fallback !== undefined) return fallback;
    throw new FormatError("gguf", `missing required key '${key}'; is this a llama-architecture file?`, {
      key,
    });
  }
  if (v.type === "array" || typeof v.value === "string" || typeof v.value === "boolean")
    throw new FormatError("gguf", `'${key}' must be a number, got ${v.type}`, { key });
  const n = Number(v.value);
  if (!Number.isFinite(n)) throw new FormatError("gguf", `'${key}' is not finite`, { key });
  return n;
}

/**
 * An f32 metadata value as the decimal its writer most likely meant: the shortest decimal that rounds
 * to the same f32 (1e-5, not 9.99999974737875e-6), so an exported model's norm epsilon and RoPE base
 * come back exactly and its logits bit-identical.
 */
function f32Decimal(h: GgufHeader, key: string, fallback?: number): number {
  const x = num(h, key, fallback);
  if (h.metadata.get(key)?.type !== "f32") return x;
  for (let p = 1; p <= 9; p++) {
    const d = Number(x.toPrecision(p));
    if (Math.fround(d) === x) return d;
  }
  return x;
}

function positiveInt(h: GgufHeader, key: string, fallback?: number): number {
  const n = num(h, key, fallback);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new FormatError("gguf", `'${key}' must be a positive integer, got ${n}`, { key });
  return n;
}

/** The architecture of a llama GGUF from its header (throws for other architectures or MoE files). */
export function archFromGguf(h: GgufHeader, name = "gguf"): ArchSpec {
  const archKey = h.metadata.get("general.architecture");
  const archName = archKey?.type === "string" ? String(archKey.value) : undefined;
  if (archName !== "llama")
    throw new ValueError(
      `gguf: architecture '${archName ?? "(missing)"}' is not supported; supported: ${ARCHITECTURES.join(", ")}`,
      { architecture: archName },
    );
  if (num(h, "llama.expert_count", 0) > 0)
    throw new ValueError("gguf: mixture-of-experts llama files are not supported; use a dense model", {
      experts: num(h, "llama.expert_count"),
    });
  const d = positiveInt(h, LLAMA_KEYS.embeddingLength);
  const heads = positiveInt(h, LLAMA_KEYS.headCount);
  const embed = h.tensors.find((t) => t.name === "token_embd.weight");
  const tokens = h.metadata.get("tokenizer.ggml.tokens");
  const vocab = positiveInt(
    h,
    LLAMA_KEYS.vocabSize,
    embed?.shape[0] ?? (tokens?.type === "array" ? tokens.value.length : undefined),
  );
  return {
    name,
    layers: positiveInt(h, LLAMA_KEYS.blockCount),
    dModel: d,
    heads,
    kvHeads: positiveInt(h, LLAMA_KEYS.headCountKv, heads),
    headDim: positiveInt(h, LLAMA_KEYS.keyLength, positiveInt(h, LLAMA_KEYS.ropeDimensionCount, d / heads)),
    ffnHidden: positiveInt(h, LLAMA_KEYS.feedForwardLength),
    ffnKind: "swiglu",
    vocab,
    tiedEmbeddings: !h.tensors.some((t) => t.name === "output.weight"),
    norm: "rmsnorm",
    positional: "rope",
    maxSeq: positiveInt(h, LLAMA_KEYS.contextLength, 4096),
    biases: false,
    experts: 1,
    topK: 1,
    sharedExperts: 0,
    capacity: Number.POSITIVE_INFINITY,
    ropeTheta: f32Decimal(h, LLAMA_KEYS.ropeFreqBase, 10000),
    normEps: f32Decimal(h, LLAMA_KEYS.rmsEps),
  };
}

/** What a GGUF holds, from its header: the architecture and the real bytes per tensor type. */
export interface GgufModelInfo {
  /** The architecture read from the file's `llama.*` metadata. */
  readonly arch: ArchSpec;
  /** Our weight format when every linear weight has the same supported type, else `mixed`. */
  readonly format: GgufWeightFormat | "mixed";
  /** Tensor count and data bytes per ggml type. */
  readonly types: Readonly<Record<string, { readonly tensors: number; readonly bytes: number }>>;
  /** Data bytes of every tensor. */
  readonly weightBytes: number;
  /** The file's size in bytes. */
  readonly fileSize: number;
}

/** The weight format of the linear layers (`mixed` if they differ or one is not a format we run). */
function linearFormat(h: GgufHeader): GgufWeightFormat | "mixed" {
  const types = new Set(
    h.tensors
      .filter((t) => /^blk\.\d+\.(attn_[qkv]|attn_output|ffn_(gate|up|down))\.weight$/.test(t.name))
      .map((t) => t.type.name),
  );
  const only = types.size === 1 ? formatOfGgmlType([...types][0]!) : undefined;
  return only ?? "mixed";
}

/** Architecture and weight bytes of a GGUF file, reading only its header. */
export function ggufModelInfo(path: string): GgufModelInfo {
  const h = loadGgufHeader(path);
  const base = (path.split(/[\\/]/).pop() ?? "gguf").replace(/\.gguf$/i, "");
  const types: Record<string, { tensors: number; bytes: number }> = {};
  let weightBytes = 0;
  for (const t of h.tensors) {
    const e = types[t.type.name] ?? { tensors: 0, bytes: 0 };
    types[t.type.name] = { tensors: e.tensors + 1, bytes: e.bytes + t.bytes };
    weightBytes += t.bytes;
  }
  return { arch: archFromGguf(h, base), format: linearFormat(h), types, weightBytes, fileSize: h.fileSize };
}

/** f32 weights by our (Hugging Face) names from a parsed llama GGUF; Q/K rows back in our order. */
export function ggufWeights(file: GgufFile, arch: ArchSpec): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  try {
    for (const e of llamaLayout(arch.layers, arch.tiedEmbeddings)) {
      const info = byName.get(e.gguf);
      if (!info)
        throw new FormatError("gguf", `missing tensor '${e.gguf}' of a ${arch.layers}-layer llama model`, {
          name: e.gguf,
        });
      let values = ggufToF32(info, file.data(e.gguf));
      if (e.ropeHeads) {
        const heads = e.ropeHeads === "heads" ? arch.heads : arch.kvHeads;
        const rowBytes = 4 * (info.shape.at(-1) ?? 1);
        const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
        if ((info.shape[0] ?? 0) !== heads * arch.headDim)
          throw new FormatError(
            "gguf",
            `'${e.gguf}' has ${info.shape[0]} rows, expected ${heads}·${arch.headDim}`,
            { name: e.gguf },
          );
        values = new Float32Array(permuteRopeRows(bytes, heads, arch.headDim, rowBytes, false).buffer);
      }
      out.set(e.hf, tensor(values, [...info.shape]));
    }
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  }
  return out;
}

/** Options of `loadGgufModel`. */
export interface GgufLoadOptions {
  /**
   * Configuration to build with. Default: the file's own weight format (`Q4_0` for a Q4_0 file), so
   * an exported model comes back with the same packed bytes.
   */
  readonly configuration?: Configuration;
}

/** Load a llama-architecture GGUF into a Transformer (its weights re-packed by the configuration). */
export function loadGgufModel(path: string, options: GgufLoadOptions = {}): Transformer {
  const file = loadGguf(path);
  const base = (path.split(/[\\/]/).pop() ?? "gguf").replace(/\.gguf$/i, "");
  const arch = archFromGguf(file, base);
  let configuration = options.configuration;
  if (!configuration) {
    const format = linearFormat(file);
    if (format === "mixed")
      throw new ValueError(
        `gguf: ${path} mixes linear-weight types; pass a configuration with one of ${Object.keys(GGUF_WEIGHT_FORMATS).join(", ")}`,
        { path },
      );
    configuration = parse(format);
  }
  const weights: WeightMap = ggufWeights(file, arch);
  try {
    return Transformer.create(arch, configuration, { weights });
  } finally {
    for (const t of weights.values()) t.dispose();
  }
}
