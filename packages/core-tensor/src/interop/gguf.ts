/**
 * GGUF (llama.cpp's model file, versions 2 and 3) reading: header, typed metadata, tensor infos,
 * alignment, and views of the tensor data. Every count, length, offset and size is checked against
 * the file before anything is allocated; problems are `FormatError`s naming the part and the offset.
 * `loadGgufHeader` reads only the header. Not here: writing (gguf-write.ts), model layouts (model).
 * Layout source: ggml/docs/gguf.md in ggml-org/llama.cpp.
 */
import { host } from "#host";
import { dtypeTraits } from "../dtype.js";
import { FormatError } from "../errors.js";
import { dequantRowNaive } from "../wasm/dequant.js";
import {
  GGUF_SUPPORTED_TYPES,
  GGUF_VALUE_TYPES,
  type GgmlType,
  type GgufScalar,
  type GgufScalarType,
  type GgufValue,
  ggmlTypeById,
  SCALAR_BYTES,
} from "./gguf-types.js";

/** "GGUF" as a little-endian u32. */
export const GGUF_MAGIC = 0x46554747;
/** Alignment of the data section and of every tensor when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/**
 * Most items a metadata array may hold. Items become JS values (8+ bytes each for a 1-byte u8), so
 * the file-size bound alone would let a corrupt count allocate 8× the file; the largest real
 * vocabularies hold a few hundred thousand tokens or merges.
 */
export const GGUF_MAX_ARRAY = 1 << 24;
/** ggml's GGML_MAX_DIMS. */
const MAX_DIMS = 4;
/** ggml's GGML_MAX_NAME: names must be shorter than this many bytes. */
export const GGUF_MAX_NAME = 64;

/** One tensor's description from the header. */
export interface GgufTensorInfo {
  /** Tensor name (`blk.0.attn_q.weight`, …). */
  readonly name: string;
  /** Row-major shape: ggml's `ne` reversed, so the contiguous dimension (`ne[0]`) is last. */
  readonly shape: readonly number[];
  /** Element type of its data. */
  readonly type: GgmlType;
  /** Offset from the start of the data section (a multiple of the alignment). */
  readonly offset: number;
  /** Data bytes: elements / blockSize · typeSize. */
  readonly bytes: number;
}

/** Everything before the tensor data. */
export interface GgufHeader {
  /** GGUF format version (2 or 3). */
  readonly version: number;
  /** Keys in file order. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** Tensors in file order. */
  readonly tensors: readonly GgufTensorInfo[];
  /** Alignment of tensor data (`general.alignment`, default 32). */
  readonly alignment: number;
  /** Byte offset of the data section in the file. */
  readonly dataOffset: number;
  /** Size of the whole file in bytes. */
  readonly fileSize: number;
}

/** A parsed file: the header plus zero-copy views of each tensor's bytes. */
export interface GgufFile extends GgufHeader {
  /** The raw bytes of tensor `name` (a view into the file buffer); throws if there is no such tensor. */
  data(name: string): Uint8Array;
}

/** Thrown internally when the bytes end before the header does (header-only reads then read more). */
class Truncated extends FormatError {}

class Cursor {
  pos = 0;
  readonly #dv: DataView;
  readonly #utf8 = new TextDecoder("utf-8", { fatal: true });
  constructor(
    readonly bytes: Uint8Array,
    readonly fileSize: number,
  ) {
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Ensure `n` more bytes exist; past the end of the file is malformed, past the buffer is truncated. */
  need(n: number, what: string): void {
    if (this.pos + n > this.fileSize)
      throw new FormatError(
        "gguf",
        `${what} at offset ${this.pos} needs ${n} bytes but the file ends at ${this.fileSize}`,
        { offset: this.pos, what },
      );
    if (this.pos + n > this.bytes.length)
      throw new Truncated("gguf", `header continues past byte ${this.bytes.length}`);
  }
  /** Bytes left in the file (bounds element counts before anything is allocated). */
  get left(): number {
    return this.fileSize - this.pos;
  }
  u8(what: string): number {
    this.need(1, what);
    return this.#dv.getUint8(this.pos++);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.#dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** A u64 that must fit a safe JS integer (sizes, counts, offsets). */
  size(what: string): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new FormatError("gguf", `${what} ${v} at offset ${this.pos - 8} is too large`, { what });
    return Number(v);
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.#dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  string(what: string): string {
    const n = this.size(`${what} length`);
    this.need(n, what);
    try {
      const s = this.#utf8.decode(this.bytes.subarray(this.pos, this.pos + n));
      this.pos += n;
      return s;
    } catch {
      throw new FormatError("gguf", `${what} at offset ${this.pos} is not valid UTF-8`, { offset: this.pos });
    }
  }
  scalar(type: GgufScalarType, what: string): GgufScalar {
    if (type === "string") return this.string(what);
    const n = SCALAR_BYTES[type];
    this.need(n, what);
    const dv = this.#dv;
    const p = this.pos;
    this.pos += n;
    switch (type) {
      case "u8":
        return dv.getUint8(p);
      case "i8":
        return dv.getInt8(p);
      case "bool": {
        const b = dv.getUint8(p);
        if (b > 1) throw new FormatError("gguf", `${what} at offset ${p}: bool byte ${b} is not 0 or 1`);
        return b === 1;
      }
      case "u16":
        return dv.getUint16(p, true);
      case "i16":
        return dv.getInt16(p, true);
      case "u32":
        return dv.getUint32(p, true);
      case "i32":
        return dv.getInt32(p, true);
      case "f32":
        return dv.getFloat32(p, true);
      case "u64":
        return dv.getBigUint64(p, true);
      case "i64":
        return dv.getBigInt64(p, true);
      case "f64":
        return dv.getFloat64(p, true);
    }
  }
  valueType(what: string): (typeof GGUF_VALUE_TYPES)[number] {
    const at = this.pos;
    const id = this.u32(what);
    const t = GGUF_VALUE_TYPES[id];
    if (t === undefined)
      throw new FormatError(
        "gguf",
        `${what} at offset ${at}: unknown value type ${id}; valid: 0-${GGUF_VALUE_TYPES.length - 1} (${GGUF_VALUE_TYPES.join(", ")})`,
        { offset: at, valueType: id },
      );
    return t;
  }
}

function readValue(c: Cursor, key: string): GgufValue {
  const type = c.valueType(`type of '${key}'`);
  if (type !== "array") return { type, value: c.scalar(type, `value of '${key}'`) };
  const itemType = c.valueType(`item type of '${key}'`);
  if (itemType === "array")
    throw new FormatError("gguf", `'${key}' is an array of arrays, which this reader does not support`, {
      key,
    });
  const count = c.size(`item count of '${key}'`);
  if (count > GGUF_MAX_ARRAY)
    throw new FormatError("gguf", `'${key}' claims ${count} items; the limit is ${GGUF_MAX_ARRAY}`, {
      key,
      count,
    });
  const minItem = itemType === "string" ? 8 : SCALAR_BYTES[itemType];
  if (count > c.left / minItem)
    throw new FormatError(
      "gguf",
      `'${key}' claims ${count} ${itemType} items but only ${c.left} bytes remain in the file`,
      { key, count },
    );
  const value: GgufScalar[] = new Array(count);
  for (let i = 0; i < count; i++) value[i] = c.scalar(itemType, `'${key}'[${i}]`);
  return { type: "array", itemType, value };
}

/** The tensor types whose payload `ggufToF32` decodes. */
function decodable(t: GgmlType, name: string): void {
  if (!(GGUF_SUPPORTED_TYPES as readonly string[]).includes(t.name))
    throw new FormatError(
      "gguf",
      `tensor '${name}' has type ${t.name}, which this project cannot decode; supported: ${GGUF_SUPPORTED_TYPES.join(", ")}`,
      { name, type: t.name },
    );
}

/**
 * Parse the header from `bytes`, the first `bytes.length` bytes of a file of `fileSize` bytes (the
 * whole file by default). Tensor extents are checked against `fileSize`.
 */
export function parseGgufHeader(bytes: Uint8Array, fileSize = bytes.length): GgufHeader {
  const c = new Cursor(bytes, fileSize);
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC)
    throw new FormatError(
      "gguf",
      `magic 0x${magic.toString(16).padStart(8, "0")} is not 'GGUF' (0x${GGUF_MAGIC.toString(16)}); is this a GGUF file?`,
      { magic },
    );
  const version = c.u32("version");
  if (version !== 2 && version !== 3)
    throw new FormatError("gguf", `version ${version} is not supported; supported: 2, 3`, { version });
  const nTensors = c.size("tensor count");
  const nKv = c.size("metadata count");
  // smallest KV: 8-byte key length + 4-byte type + 1-byte value; smallest tensor info: 8 + 4 + 4 + 8
  if (nKv > c.left / 13 || nTensors > c.left / 24)
    throw new FormatError(
      "gguf",
      `header claims ${nKv} metadata entries and ${nTensors} tensors, more than ${c.left} remaining bytes can hold`,
      { nKv, nTensors },
    );
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const at = c.pos;
    const key = c.string(`metadata key ${i}`);
    if (metadata.has(key))
      throw new FormatError("gguf", `metadata key '${key}' appears twice (second at offset ${at})`, { key });
    metadata.set(key, readValue(c, key));
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const a = metadata.get("general.alignment");
  if (a) {
    if (a.type !== "u32" || typeof a.value !== "number" || a.value === 0 || (a.value & (a.value - 1)) !== 0)
      throw new FormatError(
        "gguf",
        `general.alignment must be a u32 power of two, got ${a.type} ${a.value}`,
        {
          alignment: a.value,
        },
      );
    alignment = a.value;
  }
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = c.string(`tensor ${i} name`);
    if (new TextEncoder().encode(name).length >= GGUF_MAX_NAME)
      throw new FormatError("gguf", `tensor name '${name}' is ${GGUF_MAX_NAME} bytes or longer`, { name });
    if (names.has(name)) throw new FormatError("gguf", `tensor '${name}' appears twice`, { name });
    names.add(name);
    const nDims = c.u32(`'${name}' dimension count`);
    if (nDims > MAX_DIMS)
      throw new FormatError("gguf", `tensor '${name}' has ${nDims} dimensions; ggml allows 0-${MAX_DIMS}`, {
        name,
        nDims,
      });
    const ne: number[] = [];
    let count = 1;
    for (let d = 0; d < nDims; d++) {
      const n = c.size(`'${name}' dimension ${d}`);
      count *= n;
      if (count > Number.MAX_SAFE_INTEGER)
        throw new FormatError("gguf", `tensor '${name}' has more elements than fit a safe integer`, { name });
      ne.push(n);
    }
    const type = ggmlTypeById(c.u32(`'${name}' type`), `tensor '${name}'`);
    const offset = c.size(`'${name}' offset`);
    if ((ne[0] ?? 1) % type.blockSize !== 0)
      throw new FormatError(
        "gguf",
        `tensor '${name}': row length ${ne[0]} is not a multiple of ${type.name}'s ${type.blockSize}-element block`,
        { name, type: type.name },
      );
    if (offset % alignment !== 0)
      throw new FormatError("gguf", `tensor '${name}': offset ${offset} is not a multiple of ${alignment}`, {
        name,
        offset,
      });
    tensors.push({
      name,
      shape: ne.reverse(),
      type,
      offset,
      bytes: (count / type.blockSize) * type.typeSize,
    });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  if (dataOffset > fileSize)
    throw new FormatError(
      "gguf",
      `the file ends at ${fileSize}, inside the padding before the data section at ${dataOffset}`,
      { dataOffset },
    );
  const dataLen = fileSize - dataOffset;
  const spans = [...tensors].sort((x, y) => x.offset - y.offset);
  for (let i = 0; i < spans.length; i++) {
    const t = spans[i]!;
    if (t.offset + t.bytes > dataLen)
      throw new FormatError(
        "gguf",
        `tensor '${t.name}': bytes [${t.offset}, ${t.offset + t.bytes}) run past the ${Math.max(0, dataLen)}-byte data section`,
        { name: t.name },
      );
    const prev = spans[i - 1];
    if (prev && t.offset < prev.offset + prev.bytes)
      throw new FormatError("gguf", `tensors '${prev.name}' and '${t.name}' overlap`, {
        names: [prev.name, t.name],
      });
  }
  return { version, metadata, tensors, alignment, dataOffset, fileSize };
}

/** Parse a whole GGUF file held in memory; tensor data stays in `bytes` (views, no copies). */
export function readGguf(bytes: Uint8Array): GgufFile {
  const h = parseGgufHeader(bytes);
  const byName = new Map(h.tensors.map((t) => [t.name, t]));
  return {
    ...h,
    data(name: string): Uint8Array {
      const t = byName.get(name);
      if (!t)
        throw new FormatError("gguf", `no tensor '${name}' in the file; it has ${byName.size} tensors`, {
          name,
        });
      const at = h.dataOffset + t.offset;
      return bytes.subarray(at, at + t.bytes);
    },
  };
}

/** Read and parse a GGUF file. */
export function loadGguf(path: string): GgufFile {
  return readGguf(host.readFile(path));
}

/**
 * Read only the header of a GGUF file (for estimates): starts with 1 MiB and doubles while the header
 * continues, never reading tensor data it does not need.
 */
export function loadGgufHeader(path: string): GgufHeader {
  const file = host.openFile(path);
  try {
    const size = file.size;
    for (let n = Math.min(size, 1 << 20); ; n = Math.min(size, n * 2)) {
      try {
        return parseGgufHeader(file.read(0, n), size);
      } catch (e) {
        if (!(e instanceof Truncated) || n >= size) throw e;
      }
    }
  } finally {
    file.close();
  }
}

/** Decode a tensor's bytes (F32, F16, BF16, Q8_0, Q4_0) into a new row-major Float32Array. */
export function ggufToF32(info: GgufTensorInfo, data: Uint8Array): Float32Array {
  decodable(info.type, info.name);
  if (data.length !== info.bytes)
    throw new FormatError("gguf", `tensor '${info.name}': ${data.length} bytes, expected ${info.bytes}`, {
      name: info.name,
    });
  const n = (info.bytes / info.type.typeSize) * info.type.blockSize;
  if (info.type.blockSize === 1) {
    const out = new Float32Array(n);
    dtypeTraits(info.type.name.toLowerCase()).toFloat(data, out);
    return out;
  }
  return n === 0
    ? new Float32Array(0)
    : dequantRowNaive(info.type.name === "Q8_0" ? "q8_0" : "q4_0", data, 0, n);
}
