/**
 * safetensors (8-byte little-endian header length, JSON header, raw little-endian data) to and
 * from tensors. Parsing checks every offset, size and dtype; files are written atomically (temp file
 * then rename), so a failed save never leaves a half-written file behind.
 */
import { host } from "#host";
import type { DType } from "../dtype.js";
import { FormatError } from "../errors.js";
import { empty, shapeSize, type Tensor, type TensorOptions } from "../tensor.js";

const DTYPES: Record<string, DType> = {
  F32: "f32",
  F16: "f16",
  BF16: "bf16",
  I8: "i8",
  U8: "u8",
  I32: "i32",
};
const NAMES: Record<DType, string> = { f32: "F32", f16: "F16", bf16: "BF16", i8: "I8", u8: "U8", i32: "I32" };
const BYTES: Record<DType, number> = { f32: 4, f16: 2, bf16: 2, i8: 1, u8: 1, i32: 4 };

/** Longest JSON header read or written (the Rust reference reader's limit is 100 MB). */
const MAX_HEADER_BYTES = 100 * 2 ** 20;
/** The header key that holds the string-to-string metadata instead of a tensor. */
const METADATA_KEY = "__metadata__";

/**
 * Check `__metadata__` as the reader and the writer both require it: a plain (non-array) object whose
 * every value is a string. Throws the one `FormatError` both sides raise.
 */
function checkMetadata(info: unknown): Record<string, string> {
  if (info === null || typeof info !== "object" || Array.isArray(info)) {
    throw new FormatError(
      "safetensors",
      `${METADATA_KEY} must map strings to strings, got ${describe(info)}`,
    );
  }
  for (const [k, v] of Object.entries(info)) {
    if (typeof v !== "string") {
      throw new FormatError(
        "safetensors",
        `${METADATA_KEY} must map strings to strings, but '${k}' is ${describe(v)}; convert the value with String()`,
        { key: k },
      );
    }
  }
  return info as Record<string, string>;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  return typeof v === "object" || typeof v === "undefined" ? `an ${typeof v}` : `a ${typeof v}`;
}

/** The contents of a safetensors file: tensors by name and the free-form string metadata. */
export interface SafetensorsFile {
  /** Tensors by name, in file order (the caller owns and disposes them). */
  readonly tensors: Map<string, Tensor>;
  /** The `__metadata__` entries (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Parse safetensors bytes; tensors are copied into ledger storage with `options` (category...). */
export function readSafetensors(bytes: Uint8Array, options: TensorOptions = {}): SafetensorsFile {
  if (bytes.length < 8)
    throw new FormatError(
      "safetensors",
      `file of ${bytes.length} bytes is shorter than the 8-byte header length`,
    );
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > bytes.length - 8 || n > MAX_HEADER_BYTES) {
    throw new FormatError(
      "safetensors",
      `header length ${n} exceeds the file (${bytes.length} bytes) or the 100 MiB limit`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new FormatError("safetensors", `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new FormatError("safetensors", "header must be a JSON object");
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  try {
    for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
      if (name === METADATA_KEY) {
        metadata = checkMetadata(info);
        continue;
      }
      const rec = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const dtype =
        typeof rec?.dtype === "string" && Object.hasOwn(DTYPES, rec.dtype) ? DTYPES[rec.dtype] : undefined;
      if (!dtype) {
        throw new FormatError(
          "safetensors",
          `tensor '${clip(name)}': dtype ${show(rec?.dtype)} is not one of ${Object.keys(DTYPES).join(", ")}`,
        );
      }
      const shape = rec.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new FormatError(
          "safetensors",
          `tensor '${clip(name)}': shape ${show(shape)} is not a list of non-negative integers below 2^53`,
        );
      }
      const off = rec.data_offsets;
      if (
        !Array.isArray(off) ||
        off.length !== 2 ||
        !off.every((d) => Number.isInteger(d) && d >= 0) ||
        off[0] > off[1]
      ) {
        throw new FormatError(
          "safetensors",
          `tensor '${clip(name)}': data_offsets ${show(off)} must be [begin, end] with begin ≤ end`,
        );
      }
      const [begin, end] = off as [number, number];
      if (end > dataLen) {
        throw new FormatError(
          "safetensors",
          `tensor '${clip(name)}': data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data section`,
        );
      }
      // A zero dimension makes the tensor empty whatever the others are (and avoids ∞ × 0 = NaN).
      const need = shape.includes(0) ? 0 : shapeSize(shape) * BYTES[dtype];
      if (end - begin !== need) {
        throw new FormatError(
          "safetensors",
          `tensor '${clip(name)}': ${end - begin} bytes for shape ${show(shape)} ${String(rec.dtype)}, expected ${need}`,
        );
      }
      // Empty tensors hold no bytes, so they overlap nothing (the writer gives them [k, k]).
      if (end > begin) spans.push([begin, end, name]);
      const t = empty(shape, { ...options, dtype });
      const v = t.values;
      new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(
        bytes.subarray(dataStart + begin, dataStart + end),
      );
      t.name = name;
      tensors.set(name, t);
    }
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i]![0] < spans[i - 1]![1]) {
        throw new FormatError(
          "safetensors",
          `tensors '${clip(spans[i - 1]![2])}' and '${clip(spans[i]![2])}' overlap`,
        );
      }
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata: Object.freeze({ ...metadata }) };
}

/**
 * Serialise named tensors (sorted by name) with optional string metadata. Refuses, with the
 * `FormatError` `readSafetensors` would raise, anything it could not read back: non-string metadata
 * values, a tensor named `__metadata__`, a header over the 100 MiB limit.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata: Record<string, string> = {},
): Uint8Array {
  checkMetadata(metadata);
  const entries: [string, Tensor][] = [
    ...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors)),
  ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.some(([name]) => name === METADATA_KEY)) {
    throw new FormatError(
      "safetensors",
      `a tensor cannot be named '${METADATA_KEY}' (the key is reserved for metadata); rename it`,
    );
  }
  // A null-prototype object: a tensor named "__proto__" stays an own key of the JSON header.
  const header: Record<string, unknown> = Object.create(null);
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = { ...metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    header[name] = { dtype: NAMES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + t.bytes] };
    offset += t.bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  if (hb.length > MAX_HEADER_BYTES) {
    throw new FormatError(
      "safetensors",
      `header length ${hb.length} exceeds the 100 MiB limit readers apply; store less metadata or split the file`,
    );
  }
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let pos = 8 + hb.length;
  for (const [, t] of entries) {
    const v = t.values;
    out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), pos);
    pos += t.bytes;
  }
  return out;
}

/** A JSON value for a message, clipped (`undefined` when the field is missing). */
function show(v: unknown): string {
  return clip(String(JSON.stringify(v)));
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/** Write bytes to `path` atomically: a temp file beside it, then rename (Node; a ConfigError in browsers). */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  host.writeFileAtomic(path, bytes);
}

/**
 * Writes `tensors` (and string `metadata`) to `path` as safetensors, atomically (Node; a `ConfigError` in
 * browsers).
 */
export function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, writeSafetensors(tensors, metadata));
}

/** Reads a safetensors file from `path` (Node); tensors are copied into ledger storage with `options`. */
export function loadSafetensors(path: string, options: TensorOptions = {}): SafetensorsFile {
  return readSafetensors(host.readFile(path), options);
}
