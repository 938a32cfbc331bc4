/**
 * `int8` KV storage: symmetric absmax quantisation per stored vector (one (token, head) K or V
 * vector): scale = max|x|/127, q = round(x/scale) ∈ [−127, 127], one f32 scale beside the values.
 * Bytes: count·dim·1 + count·4. Not a cache: layout is the kv-memory slot's business.
 */
import { getLedger, type KvStore, type Storage, ValueError } from "@tradeoffs/core-tensor";
import { checkStoreSize, checkVectorIndex } from "./store-index.js";

/** Largest quantised magnitude (symmetric: −128 is never used). */
export const INT8_QMAX = 127;

/**
 * Quantise `src[srcOffset .. srcOffset + dim)` into `q[qOffset ..)`; returns the f32 scale (0 for an
 * all-zero vector). `index` only names the vector in errors. Throws a `ValueError` on NaN or ±Inf,
 * which no scale can represent.
 */
export function quantizeAbsmaxInt8(
  src: Float32Array,
  srcOffset: number,
  dim: number,
  q: Int8Array,
  qOffset: number,
  index = -1,
): number {
  let absmax = 0;
  for (let i = 0; i < dim; i++) {
    const a = Math.abs(src[srcOffset + i]!);
    if (a > absmax) absmax = a;
    else if (Number.isNaN(a)) {
      absmax = a;
      break;
    }
  }
  if (!Number.isFinite(absmax)) {
    const what = index >= 0 ? `int8 KV store: vector ${index}` : "int8 absmax quantisation: the vector";
    throw new ValueError(
      `${what} holds ${absmax}, which no absmax scale can represent; use KV[fp32] or find the overflow upstream`,
      { index, absmax },
    );
  }
  const scale = Math.fround(absmax / INT8_QMAX);
  if (scale === 0) {
    // All zeros (or so tiny the scale underflows f32): store zeros.
    q.fill(0, qOffset, qOffset + dim);
    return 0;
  }
  const inv = 1 / scale;
  for (let i = 0; i < dim; i++) {
    // |x·inv| ≤ 127 up to f32 rounding of the scale; the clamp guards that last ulp.
    q[qOffset + i] = Math.min(INT8_QMAX, Math.max(-INT8_QMAX, Math.round(src[srcOffset + i]! * inv)));
  }
  return scale;
}

/** int8 storage: `count` vectors of `dim` int8 values plus `count` f32 scales, both in the ledger. */
export function int8Store(count: number, dim: number, category: string): KvStore {
  checkStoreSize("int8 KV store", count, dim);
  const valueStorage = getLedger().allocate(category, "i8", count * dim); // [count, dim]
  let scaleStorage: Storage;
  try {
    scaleStorage = getLedger().allocate(category, "f32", count); // [count], beside the values
  } catch (e) {
    valueStorage.release(); // e.g. OutOfMemoryError: leave nothing behind
    throw e;
  }
  const q = valueStorage.data as Int8Array;
  const scales = scaleStorage.data as Float32Array;
  return {
    count,
    dim,
    bytes: valueStorage.bytes + scaleStorage.bytes,
    f32: undefined,
    write(index, src, srcOffset) {
      checkVectorIndex("int8 KV store", index, count);
      scales[index] = quantizeAbsmaxInt8(src, srcOffset, dim, q, index * dim, index);
    },
    read(index, dst, dstOffset) {
      checkVectorIndex("int8 KV store", index, count);
      const s = scales[index]!;
      const base = index * dim;
      for (let i = 0; i < dim; i++) dst[dstOffset + i] = q[base + i]! * s;
    },
    dispose: () => {
      valueStorage.release();
      scaleStorage.release();
    },
  };
}
