/**
 * `fp16` KV storage: IEEE half bits (Uint16) through core's `f32ToF16`/`f16ToF32`, 2 bytes per
 * element, no scales. Rounds to nearest even; a finite value beyond ±65504 is refused rather than
 * silently stored as Inf. Not a cache: layout is the kv-memory slot's business.
 */
import { f16ToF32, f32ToF16, getLedger, type KvStore, ValueError } from "@tradeoffs/core-tensor";
import { checkStoreSize, checkVectorIndex } from "./store-index.js";

/** Largest finite half value. */
export const F16_MAX = 65504;

// Decode table: half bits → f32 value for all 65536 patterns (256 KiB, built on first use). A fixed
// constant like a code page, not model state, so it stays outside the ledger.
let decodeTable: Float32Array | undefined;
function f16Table(): Float32Array {
  if (!decodeTable) {
    decodeTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) decodeTable[h] = f16ToF32(h);
  }
  return decodeTable;
}

/** f16 storage: `count` vectors of `dim` halves in one ledger allocation (count·dim·2 bytes). */
export function f16Store(count: number, dim: number, category: string): KvStore {
  checkStoreSize("fp16 KV store", count, dim);
  const storage = getLedger().allocate(category, "f16", count * dim); // [count, dim] half bits
  const bits = storage.data as Uint16Array;
  const table = f16Table();
  return {
    count,
    dim,
    bytes: storage.bytes,
    f32: undefined,
    write(index, src, srcOffset) {
      checkVectorIndex("fp16 KV store", index, count);
      const base = index * dim;
      for (let i = 0; i < dim; i++) {
        const x = src[srcOffset + i]!;
        const h = f32ToF16(x);
        if ((h & 0x7fff) === 0x7c00 && Number.isFinite(x)) {
          throw new ValueError(
            `fp16 KV store: element ${i} of vector ${index} is ${x}, beyond the fp16 range ±${F16_MAX}; use KV[fp32] or KV[int8] (absmax-scaled) for such activations`,
            { index, element: i, value: x },
          );
        }
        bits[base + i] = h;
      }
    },
    read(index, dst, dstOffset) {
      checkVectorIndex("fp16 KV store", index, count);
      const base = index * dim;
      for (let i = 0; i < dim; i++) dst[dstOffset + i] = table[bits[base + i]!]!;
    },
    dispose: () => storage.release(),
  };
}
