/**
 * GGUF's two tables: the ggml tensor types (id, name, elements per block, bytes per block) and the
 * metadata value types. Facts only; parsing lives in gguf.ts, writing in gguf-write.ts.
 * Source: ggml/include/ggml.h (`enum ggml_type`) and ggml/src/ggml.c (`type_traits`), and the GGUF spec
 * (ggml/docs/gguf.md, `gguf_metadata_value_type`), llama.cpp as of 2025.
 */
import { FormatError } from "../errors.js";

/** One ggml tensor type: `blockSize` elements take `typeSize` bytes. */
export interface GgmlType {
  /** The type's id in GGUF files (`ggml_type`). */
  readonly id: number;
  /** The type's name as llama.cpp spells it (`F32`, `Q4_0`, …). */
  readonly name: string;
  /** Elements per block (1 for plain floats). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

// [id, name, block size, bytes per block]. Block sizes: QK4_0 = QK8_0 = 32, QK_K = 256.
const TYPES: readonly (readonly [number, string, number, number])[] = [
  [0, "F32", 1, 4],
  [1, "F16", 1, 2],
  [2, "Q4_0", 32, 18],
  [3, "Q4_1", 32, 20],
  [6, "Q5_0", 32, 22],
  [7, "Q5_1", 32, 24],
  [8, "Q8_0", 32, 34],
  [9, "Q8_1", 32, 36],
  [10, "Q2_K", 256, 84],
  [11, "Q3_K", 256, 110],
  [12, "Q4_K", 256, 144],
  [13, "Q5_K", 256, 176],
  [14, "Q6_K", 256, 210],
  [15, "Q8_K", 256, 292],
  [16, "IQ2_XXS", 256, 66],
  [17, "IQ2_XS", 256, 74],
  [18, "IQ3_XXS", 256, 98],
  [19, "IQ1_S", 256, 50],
  [20, "IQ4_NL", 32, 18],
  [21, "IQ3_S", 256, 110],
  [22, "IQ2_S", 256, 82],
  [23, "IQ4_XS", 256, 136],
  [24, "I8", 1, 1],
  [25, "I16", 1, 2],
  [26, "I32", 1, 4],
  [27, "I64", 1, 8],
  [28, "F64", 1, 8],
  [29, "IQ1_M", 256, 56],
  [30, "BF16", 1, 2],
  [34, "TQ1_0", 256, 54],
  [35, "TQ2_0", 256, 66],
  [39, "MXFP4", 32, 17],
];

/** Ids ggml once used and has since removed (Q4_2, Q4_3, the Q4_0_x_y and IQ4_NL_x_y repacks). */
const REMOVED: Readonly<Record<number, string>> = {
  4: "Q4_2",
  5: "Q4_3",
  31: "Q4_0_4_4",
  32: "Q4_0_4_8",
  33: "Q4_0_8_8",
  36: "IQ4_NL_4_4",
  37: "IQ4_NL_4_8",
  38: "IQ4_NL_8_8",
};

const BY_ID = new Map<number, GgmlType>(
  TYPES.map(([id, name, blockSize, typeSize]) => [id, Object.freeze({ id, name, blockSize, typeSize })]),
);
const BY_NAME = new Map<string, GgmlType>([...BY_ID.values()].map((t) => [t.name, t]));

/** Every ggml type this table knows, by id. */
export const GGML_TYPES: readonly GgmlType[] = Object.freeze([...BY_ID.values()]);

/** The tensor types whose data this project converts to and from f32. */
export const GGUF_SUPPORTED_TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0"] as const;
/** A tensor type name this project reads and writes (`F32`, `F16`, `BF16`, `Q8_0`, `Q4_0`). */
export type GgufSupportedType = (typeof GGUF_SUPPORTED_TYPES)[number];

/** The type with ggml id `id`; a removed or unknown id gets a `FormatError` naming it. */
export function ggmlTypeById(id: number, where = "tensor"): GgmlType {
  const t = BY_ID.get(id);
  if (t) return t;
  const removed = REMOVED[id];
  throw new FormatError(
    "gguf",
    removed
      ? `${where}: ggml type ${id} (${removed}) was removed from ggml; re-convert the model with a current llama.cpp`
      : `${where}: unknown ggml type id ${id}; known ids: ${[...BY_ID.keys()].join(", ")}`,
    { typeId: id },
  );
}

/** The type named `name` (`Q4_0`, `F32`, ...); unknown names get a `FormatError` listing the known ones. */
export function ggmlTypeByName(name: string): GgmlType {
  const t = BY_NAME.get(name.toUpperCase());
  if (t) return t;
  throw new FormatError("gguf", `unknown ggml type '${name}'; known: ${[...BY_NAME.keys()].join(", ")}`, {
    type: name,
  });
}

/** Metadata value types, by GGUF id (`gguf_metadata_value_type`). */
export const GGUF_VALUE_TYPES = [
  "u8",
  "i8",
  "u16",
  "i16",
  "u32",
  "i32",
  "f32",
  "bool",
  "string",
  "array",
  "u64",
  "i64",
  "f64",
] as const;
/** A GGUF metadata value type name (`u32`, `string`, `array`, …). */
export type GgufValueTypeName = (typeof GGUF_VALUE_TYPES)[number];
/** The element types a metadata value or array item may have (GGUF allows arrays of arrays; we do not). */
export type GgufScalarType = Exclude<GgufValueTypeName, "array">;

/** Bytes of one fixed-size scalar (strings are 8 + length). */
export const SCALAR_BYTES: Readonly<Record<Exclude<GgufScalarType, "string">, number>> = {
  u8: 1,
  i8: 1,
  bool: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  u64: 8,
  i64: 8,
  f64: 8,
};

/** A scalar's JS value: numbers, bigints for 64-bit integers, booleans, strings. */
export type GgufScalar = number | bigint | boolean | string;

/** One typed metadata value. */
export type GgufValue =
  | { readonly type: GgufScalarType; readonly value: GgufScalar }
  | { readonly type: "array"; readonly itemType: GgufScalarType; readonly value: readonly GgufScalar[] };
