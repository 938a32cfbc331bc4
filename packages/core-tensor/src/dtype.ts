/**
 * The dtype traits table: one row per element or block type (name, bits, block size, bytes per block,
 * to/from float). The table is closed: the six tensor element types. Block formats (INT8/INT4/NF4 groups)
 * are packed by @tradeoffs/quant.
 * Not here: the arithmetic; kernels compute in f32 and convert at the edges.
 */
import { DTypeError } from "./errors.js";

/** Typed arrays a storage can hold. */
export type TypedArray = Float32Array | Uint16Array | Int8Array | Uint8Array | Int32Array;

/** One row of the traits table. */
export interface DTypeTraits {
  /** The dtype's name (`f32`, `q8_0`, …), as `DType` spells it. */
  readonly name: string;
  /** `float`/`int`: one element per block; `block`: a quantised block format. */
  readonly kind: "float" | "int" | "block";
  /** Elements per block (1 for element types). */
  readonly blockSize: number;
  /** Bytes per block (including any per-block scales). */
  readonly bytesPerBlock: number;
  /** Storage bits per element, scales included: `8 * bytesPerBlock / blockSize`. */
  readonly bits: number;
  /** Decode `out.length` elements from raw little-endian bytes. */
  readonly toFloat: (src: Uint8Array, out: Float32Array) => void;
  /** Encode `src` into raw little-endian bytes (`out.length === rowBytes(name, src.length)`). */
  readonly fromFloat: (src: Float32Array, out: Uint8Array) => void;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f32 → IEEE half bits, round-to-nearest-even; NaN stays NaN, overflow goes to ±Inf, subnormals kept. */
export function f32ToF16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rem > half || (rem === half && (r & 1) === 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1)) r++; // a carry may round up into Inf: correct
  return sign | r;
}

/** IEEE half bits → f32 value (exact). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** f32 → bfloat16 bits, round-to-nearest-even; NaN stays a (quiet) NaN. */
export function f32ToBF16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits → f32 value (exact). */
export function bf16ToF32(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0]!;
}

function view<T>(ctor: new (b: ArrayBufferLike, o: number, n: number) => T, src: Uint8Array, n: number): T {
  if (src.byteOffset % 4 === 0) return new ctor(src.buffer, src.byteOffset, n);
  return new ctor(src.slice().buffer, 0, n);
}

/** One frozen row of the table; `bits` follows from the block shape. */
function row(t: Omit<DTypeTraits, "bits">): DTypeTraits {
  return Object.freeze({ ...t, bits: (8 * t.bytesPerBlock) / t.blockSize });
}

const ROWS: readonly DTypeTraits[] = [
  row({
    name: "f32",
    kind: "float",
    blockSize: 1,
    bytesPerBlock: 4,
    toFloat: (src, out) => out.set(view(Float32Array, src, out.length)),
    fromFloat: (src, out) => out.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength)),
  }),
  row({
    name: "f16",
    kind: "float",
    blockSize: 1,
    bytesPerBlock: 2,
    toFloat: (src, out) => {
      const h = view(Uint16Array, src, out.length);
      for (let i = 0; i < out.length; i++) out[i] = f16ToF32(h[i]!);
    },
    fromFloat: (src, out) => {
      const h = new Uint16Array(out.buffer, out.byteOffset, src.length);
      for (let i = 0; i < src.length; i++) h[i] = f32ToF16(src[i]!);
    },
  }),
  row({
    name: "bf16",
    kind: "float",
    blockSize: 1,
    bytesPerBlock: 2,
    toFloat: (src, out) => {
      const h = view(Uint16Array, src, out.length);
      for (let i = 0; i < out.length; i++) out[i] = bf16ToF32(h[i]!);
    },
    fromFloat: (src, out) => {
      const h = new Uint16Array(out.buffer, out.byteOffset, src.length);
      for (let i = 0; i < src.length; i++) h[i] = f32ToBF16(src[i]!);
    },
  }),
  row({
    name: "i8",
    kind: "int",
    blockSize: 1,
    bytesPerBlock: 1,
    toFloat: (src, out) => out.set(new Int8Array(src.buffer, src.byteOffset, out.length)),
    fromFloat: (src, out) => {
      const o = new Int8Array(out.buffer, out.byteOffset, src.length);
      for (let i = 0; i < src.length; i++) o[i] = Math.max(-128, Math.min(127, Math.round(src[i]!)));
    },
  }),
  row({
    name: "u8",
    kind: "int",
    blockSize: 1,
    bytesPerBlock: 1,
    toFloat: (src, out) => out.set(src.subarray(0, out.length)),
    fromFloat: (src, out) => {
      for (let i = 0; i < src.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(src[i]!)));
    },
  }),
  row({
    name: "i32",
    kind: "int",
    blockSize: 1,
    bytesPerBlock: 4,
    toFloat: (src, out) => out.set(view(Int32Array, src, out.length)),
    fromFloat: (src, out) => {
      const o = new Int32Array(out.buffer, out.byteOffset, src.length);
      for (let i = 0; i < src.length; i++) o[i] = Math.round(src[i]!);
    },
  }),
];

const table: ReadonlyMap<string, DTypeTraits> = new Map(ROWS.map((t) => [t.name, t]));

/** Element dtypes a `Tensor` can hold. */
export type DType = "f32" | "f16" | "bf16" | "i8" | "u8" | "i32";
/** The element dtypes a `Tensor` can hold (the block formats live only inside packed weights). */
export const TENSOR_DTYPES: readonly DType[] = ["f32", "f16", "bf16", "i8", "u8", "i32"];

/** The traits of a dtype; throws a `DTypeError` listing the known names. */
export function dtypeTraits(name: string): DTypeTraits {
  const t = table.get(name);
  if (!t) {
    throw new DTypeError(`unknown dtype '${name}'; known: ${[...table.keys()].join(", ")}`, { name });
  }
  return t;
}

/** Bytes of a row of `n` elements of `dtype`; block types need `n` to be a multiple of the block. */
export function rowBytes(dtype: string, n: number): number {
  const t = dtypeTraits(dtype);
  if (!Number.isInteger(n) || n < 0)
    throw new DTypeError(`rowBytes: n must be a non-negative integer, got ${n}`);
  if (n % t.blockSize !== 0) {
    throw new DTypeError(
      `rowBytes: a row of ${n} ${dtype} elements is not a whole number of ${t.blockSize}-element blocks; use a multiple of ${t.blockSize}`,
      { dtype, n, blockSize: t.blockSize },
    );
  }
  return (n / t.blockSize) * t.bytesPerBlock;
}

/** The typed array class that holds a tensor dtype's elements (f16/bf16 as Uint16Array bits). */
export interface TypedArrayClass {
  new (length: number): TypedArray;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
}
const ARRAY_CLASSES: ReadonlyMap<string, TypedArrayClass> = new Map<string, TypedArrayClass>([
  ["f32", Float32Array],
  ["f16", Uint16Array],
  ["bf16", Uint16Array],
  ["i8", Int8Array],
  ["u8", Uint8Array],
  ["i32", Int32Array],
]);

/** The typed array class of a tensor dtype; `undefined` for a block-quantised or unknown one. */
export function arrayClass(dtype: string): TypedArrayClass | undefined {
  return ARRAY_CLASSES.get(dtype);
}

/** A new zeroed typed array for `n` elements of a tensor dtype. */
export function allocArray(dtype: DType, n: number): TypedArray {
  const C = ARRAY_CLASSES.get(dtype);
  if (C === undefined) {
    throw new DTypeError(`not a tensor dtype: '${String(dtype)}'; use one of ${TENSOR_DTYPES.join(", ")}`);
  }
  return new C(n);
}
