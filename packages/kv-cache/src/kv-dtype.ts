/**
 * `KV[dtype=…]`: the element type of the KV cache. `fp32` stores vectors as they are.
 */
import {
  defineStrategy,
  getLedger,
  type KvDtypeExec,
  type KvStore,
  ValueError,
} from "@tradeoffs/core-tensor";

/** f32 storage: `count` vectors of `dim` floats in one ledger allocation. */
export function f32Store(count: number, dim: number, category: string): KvStore {
  const storage = getLedger().allocate(category, "f32", count * dim);
  const data = storage.data as Float32Array;
  const check = (index: number) => {
    if (!(index >= 0 && index < count))
      throw new ValueError(`KV store: vector ${index} is outside [0, ${count})`);
  };
  return {
    count,
    dim,
    bytes: storage.bytes,
    f32: data,
    write(index, src, srcOffset) {
      check(index);
      data.set(src.subarray(srcOffset, srcOffset + dim), index * dim);
    },
    read(index, dst, dstOffset) {
      check(index);
      dst.set(data.subarray(index * dim, index * dim + dim), dstOffset);
    },
    dispose: () => storage.release(),
  };
}

const FP32: KvDtypeExec = { dtype: "fp32", bytesPerElement: 4, scaleBytesPerVector: 0, allocate: f32Store };

export const kvDtype = defineStrategy({
  name: "KV",
  slot: "kv-dtype",
  description: "Element type of the KV cache",
  options: {
    dtype: { type: "choice", default: "fp32", choices: ["fp32"], doc: "storage type of cached K/V vectors" },
  },
  positional: "dtype",
  plan: (p) => ({ ...p, kv: { ...p.kv, dtype: "fp32", bytesPerElement: 4, scaleBytesPerVector: 0 } }),
  exec: () => FP32,
});
