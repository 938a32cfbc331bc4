/**
 * `fp32` KV storage: vectors kept as they are, 4 bytes per element, no scales. The oracle the
 * fp16 and int8 stores are tested against. Not a cache: layout is the kv-memory slot's business.
 */
import { getBackend, getLedger, type KvStore } from "@tradeoffs/core-tensor";
import { checkStoreSize, checkVectorIndex } from "./store-index.js";

/** f32 storage: `count` vectors of `dim` floats in one ledger allocation (count·dim·4 bytes). */
export function f32Store(count: number, dim: number, category: string): KvStore {
  checkStoreSize("fp32 KV store", count, dim);
  const ledger = getLedger();
  // [count, dim], in the active backend's memory when it has one (WASM): the cache's gathers for
  // attention, resident too, then copy with one memory.copy (`copyElements`).
  const storage =
    getBackend().allocateResident?.(ledger, category, "f32", count * dim) ??
    ledger.allocate(category, "f32", count * dim);
  const data = storage.data as Float32Array;
  return {
    count,
    dim,
    bytes: storage.bytes,
    f32: data,
    storage,
    write(index, src, srcOffset) {
      checkVectorIndex("fp32 KV store", index, count);
      // A plain loop: head vectors are short, and subarray() would allocate a view per call.
      const base = index * dim;
      for (let i = 0; i < dim; i++) data[base + i] = src[srcOffset + i]!;
    },
    read(index, dst, dstOffset) {
      checkVectorIndex("fp32 KV store", index, count);
      const base = index * dim;
      for (let i = 0; i < dim; i++) dst[dstOffset + i] = data[base + i]!;
    },
    dispose: () => storage.release(),
  };
}
