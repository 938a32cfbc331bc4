/**
 * GGUF v3 writing: typed metadata, tensor infos and aligned tensor data, validated before a byte is
 * written (names, value ranges, data sizes), saved atomically (temp file then rename). Tensor bytes
 * come in ready-made: quantising is the quant package's job; `ggufFromF32` covers F32/F16/BF16.
 */
import { dtypeTraits } from "../dtype.js";
import { FormatError, ValueError } from "../errors.js";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_MAX_NAME } from "./gguf.js";
import {
  GGUF_VALUE_TYPES,
  type GgmlType,
  type GgufScalar,
  type GgufScalarType,
  type GgufValue,
  ggmlTypeByName,
  SCALAR_BYTES,
} from "./gguf-types.js";
import { writeFileAtomic } from "./safetensors.js";

/** A tensor to write: row-major `shape` (the last dimension is ggml's contiguous `ne[0]`). */
export interface GgufTensorInput {
  /** Tensor name in the file (`blk.0.attn_q.weight`, …). */
  readonly name: string;
  /** Row-major shape (written reversed, as ggml's `ne`). */
  readonly shape: readonly number[];
  /** A ggml type or its name (`F32`, `Q4_0`, ...). */
  readonly type: GgmlType | string;
  /** The tensor's bytes, already encoded in `type`. */
  readonly data: Uint8Array;
}

const INT_RANGE: Partial<Record<GgufScalarType, readonly [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};
const BIG_RANGE: Partial<Record<GgufScalarType, readonly [bigint, bigint]>> = {
  u64: [0n, 2n ** 64n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
};

function checkScalar(type: GgufScalarType, v: GgufScalar, key: string): void {
  const bad = (want: string) =>
    new ValueError(
      `gguf: metadata '${key}' of type ${type} needs ${want}, got ${JSON.stringify(String(v))}`,
      {
        key,
        type,
      },
    );
  if (type === "string") {
    if (typeof v !== "string") throw bad("a string");
  } else if (type === "bool") {
    if (typeof v !== "boolean") throw bad("a boolean");
  } else if (type === "f32" || type === "f64") {
    if (typeof v !== "number") throw bad("a number");
  } else if (type === "u64" || type === "i64") {
    const [lo, hi] = BIG_RANGE[type]!;
    const b = typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : null;
    if (b === null || b < lo || b > hi) throw bad(`an integer in [${lo}, ${hi}]`);
  } else {
    const [lo, hi] = INT_RANGE[type]!;
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi)
      throw bad(`an integer in [${lo}, ${hi}]`);
  }
}

class Sink {
  readonly #chunks: Uint8Array[] = [];
  length = 0;
  readonly #enc = new TextEncoder();
  push(b: Uint8Array): void {
    this.#chunks.push(b);
    this.length += b.length;
  }
  fixed(n: number, fill: (dv: DataView) => void): void {
    const b = new Uint8Array(n);
    fill(new DataView(b.buffer));
    this.push(b);
  }
  u32(v: number): void {
    this.fixed(4, (dv) => dv.setUint32(0, v, true));
  }
  u64(v: number | bigint): void {
    this.fixed(8, (dv) => dv.setBigUint64(0, BigInt(v), true));
  }
  string(s: string): void {
    const b = this.#enc.encode(s);
    this.u64(b.length);
    this.push(b);
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    if (n > 0) this.push(new Uint8Array(n));
  }
  scalar(type: GgufScalarType, v: GgufScalar): void {
    if (type === "string") {
      this.string(v as string);
      return;
    }
    this.fixed(SCALAR_BYTES[type], (dv) => {
      switch (type) {
        case "u8":
          return dv.setUint8(0, v as number);
        case "i8":
          return dv.setInt8(0, v as number);
        case "bool":
          return dv.setUint8(0, v ? 1 : 0);
        case "u16":
          return dv.setUint16(0, v as number, true);
        case "i16":
          return dv.setInt16(0, v as number, true);
        case "u32":
          return dv.setUint32(0, v as number, true);
        case "i32":
          return dv.setInt32(0, v as number, true);
        case "f32":
          return dv.setFloat32(0, v as number, true);
        case "f64":
          return dv.setFloat64(0, v as number, true);
        case "u64":
          return dv.setBigUint64(0, BigInt(v as number | bigint), true);
        case "i64":
          return dv.setBigInt64(0, BigInt(v as number | bigint), true);
      }
    });
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.#chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** Metadata to write: a map or a record of typed values, written in iteration order. */
export type GgufMetadataInput = ReadonlyMap<string, GgufValue> | Readonly<Record<string, GgufValue>>;

/**
 * Serialise a GGUF v3 file. Metadata keeps its order; `general.alignment` (a u32 power of two), when
 * present, sets the alignment (default 32). Throws `ValueError`/`FormatError` naming the bad entry.
 */
export function writeGguf(metadata: GgufMetadataInput, tensors: readonly GgufTensorInput[]): Uint8Array {
  const meta = [...(metadata instanceof Map ? metadata.entries() : Object.entries(metadata))] as [
    string,
    GgufValue,
  ][];
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  for (const [key, v] of meta) {
    if (v.type === "array") {
      if (!GGUF_VALUE_TYPES.includes(v.itemType) || v.itemType === ("array" as string))
        throw new ValueError(`gguf: metadata '${key}' has item type '${v.itemType}'; arrays hold scalars`, {
          key,
        });
      for (const item of v.value) checkScalar(v.itemType, item, key);
    } else {
      if (!GGUF_VALUE_TYPES.includes(v.type))
        throw new ValueError(
          `gguf: metadata '${key}' has type '${v.type}'; valid: ${GGUF_VALUE_TYPES.join(", ")}`,
          { key },
        );
      checkScalar(v.type, v.value, key);
    }
    if (key === "general.alignment") {
      const a = v.value as number;
      if (v.type !== "u32" || a === 0 || (a & (a - 1)) !== 0)
        throw new ValueError(`gguf: general.alignment must be a u32 power of two, got ${v.type} ${a}`, {
          alignment: a,
        });
      alignment = a;
    }
  }
  const names = new Set<string>();
  const infos = tensors.map((t) => {
    const type = typeof t.type === "string" ? ggmlTypeByName(t.type) : t.type;
    if (new TextEncoder().encode(t.name).length >= GGUF_MAX_NAME || t.name.length === 0)
      throw new ValueError(`gguf: tensor name '${t.name}' must be 1 to ${GGUF_MAX_NAME - 1} bytes`, {
        name: t.name,
      });
    if (names.has(t.name)) throw new ValueError(`gguf: tensor '${t.name}' is listed twice`, { name: t.name });
    names.add(t.name);
    if (t.shape.length > 4 || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new ValueError(`gguf: tensor '${t.name}' shape [${t.shape}] needs 0-4 non-negative dimensions`, {
        name: t.name,
      });
    const row = t.shape.at(-1) ?? 1;
    if (row % type.blockSize !== 0)
      throw new ValueError(
        `gguf: tensor '${t.name}' row length ${row} is not a multiple of ${type.name}'s ${type.blockSize}-element block`,
        { name: t.name },
      );
    const count = t.shape.reduce((a, b) => a * b, 1);
    const bytes = (count / type.blockSize) * type.typeSize;
    if (t.data.length !== bytes)
      throw new FormatError(
        "gguf",
        `tensor '${t.name}' [${t.shape}] ${type.name} needs ${bytes} bytes, got ${t.data.length}`,
        { name: t.name },
      );
    return { ...t, type, bytes };
  });
  const s = new Sink();
  s.u32(GGUF_MAGIC);
  s.u32(3);
  s.u64(infos.length);
  s.u64(meta.length);
  for (const [key, v] of meta) {
    s.string(key);
    if (v.type === "array") {
      s.u32(GGUF_VALUE_TYPES.indexOf("array"));
      s.u32(GGUF_VALUE_TYPES.indexOf(v.itemType));
      s.u64(v.value.length);
      for (const item of v.value) s.scalar(v.itemType, item);
    } else {
      s.u32(GGUF_VALUE_TYPES.indexOf(v.type));
      s.scalar(v.type, v.value);
    }
  }
  let offset = 0;
  for (const t of infos) {
    s.string(t.name);
    s.u32(t.shape.length);
    for (let d = t.shape.length - 1; d >= 0; d--) s.u64(t.shape[d]!);
    s.u32(t.type.id);
    s.u64(offset);
    offset += Math.ceil(t.bytes / alignment) * alignment;
  }
  s.pad(alignment);
  for (const t of infos) {
    s.push(t.data);
    s.pad(alignment);
  }
  return s.concat();
}

/** Write a GGUF file atomically: a failed save leaves no partial file behind. */
export function saveGguf(
  path: string,
  metadata: GgufMetadataInput,
  tensors: readonly GgufTensorInput[],
): void {
  writeFileAtomic(path, writeGguf(metadata, tensors));
}

/** Encode f32 values as F32, F16 or BF16 tensor bytes (block types come from @tradeoffs/quant). */
export function ggufFromF32(type: "F32" | "F16" | "BF16", values: Float32Array): Uint8Array {
  if (type !== "F32" && type !== "F16" && type !== "BF16")
    throw new ValueError(
      `gguf: ggufFromF32 encodes F32, F16 or BF16, got '${String(type)}'; quantise Q8_0/Q4_0 with @tradeoffs/quant`,
      { type },
    );
  const traits = dtypeTraits(type.toLowerCase());
  const out = new Uint8Array(values.length * traits.bytesPerBlock);
  traits.fromFloat(values, out);
  return out;
}
