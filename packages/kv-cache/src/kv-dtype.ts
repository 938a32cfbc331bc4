/**
 * `KV[dtype=fp32|fp16|int8]` (positional: `KV[int8]`): the element type of the KV cache, as one row
 * per dtype (bytes per element, scale bytes per vector, store). Not the layout: contiguous or paged
 * storage is the kv-memory slot, which allocates its vectors through the exec chosen here.
 */
import { defineStrategy, type KvDtypeExec } from "@tradeoffs/core-tensor";
import { f16Store } from "./f16-store.js";
import { f32Store } from "./f32-store.js";
import { int8Store } from "./int8-store.js";

/** KV cache dtypes by name: one traits row each (the estimator reads the same numbers via `plan()`). */
export const KV_DTYPES = {
  fp32: { dtype: "fp32", bytesPerElement: 4, scaleBytesPerVector: 0, allocate: f32Store },
  fp16: { dtype: "fp16", bytesPerElement: 2, scaleBytesPerVector: 0, allocate: f16Store },
  /** Symmetric absmax per (token, head) vector: one f32 scale beside each vector's int8 values. */
  int8: { dtype: "int8", bytesPerElement: 1, scaleBytesPerVector: 4, allocate: int8Store },
} as const satisfies Record<string, KvDtypeExec>;

/** `fp32`, `fp16` or `int8`. */
export type KvDtypeName = keyof typeof KV_DTYPES;

/** Names of the KV dtypes, in the order the CLI lists them. */
export const KV_DTYPE_NAMES = Object.keys(KV_DTYPES) as readonly KvDtypeName[];

/**
 * Bytes one token adds to a KV cache: K and V, every layer and K/V head:
 * `2 · layers · kvHeads · (headDim · bytesPerElement + scaleBytesPerVector)`.
 */
export function kvBytesPerToken(
  dims: { readonly layers: number; readonly kvHeads: number; readonly headDim: number },
  dtype: Pick<KvDtypeExec, "bytesPerElement" | "scaleBytesPerVector">,
): number {
  return 2 * dims.layers * dims.kvHeads * (dims.headDim * dtype.bytesPerElement + dtype.scaleBytesPerVector);
}

/**
 * `kvDtype({ dtype })` → `KV[dtype=fp32|fp16|int8]` (slot `kv-dtype`; default fp32; `KV[int8]` in
 * configuration strings). `plan()` sets `kv.{dtype, bytesPerElement, scaleBytesPerVector}`.
 */
export const kvDtype = defineStrategy({
  name: "KV",
  slot: "kv-dtype",
  description: "Element type of the KV cache: fp32, fp16 or int8 (absmax scale per token and head)",
  options: {
    dtype: {
      type: "choice",
      default: "fp32",
      choices: KV_DTYPE_NAMES,
      doc: "storage type of cached K/V vectors: fp32 (4 B), fp16 (2 B), int8 (1 B + a 4 B scale per vector)",
    },
  },
  positional: "dtype",
  plan: (p, o) => {
    const t = KV_DTYPES[o.dtype as KvDtypeName];
    return {
      ...p,
      kv: {
        ...p.kv,
        dtype: t.dtype,
        bytesPerElement: t.bytesPerElement,
        scaleBytesPerVector: t.scaleBytesPerVector,
      },
    };
  },
  exec: (o) => KV_DTYPES[o.dtype as KvDtypeName],
});
