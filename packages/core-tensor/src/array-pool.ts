/**
 * The ledger's cache of released typed arrays, by dtype and length: a decode step allocates and frees
 * the same shapes every token, and a fresh off-heap `Float32Array` costs microseconds plus GC work
 * (measured: ~34 µs for 18 624 floats, against ~2 µs to re-zero a cached one). Arrays come back
 * zeroed. Not accounting: pooled bytes belong to no tensor and are not in the ledger's live bytes.
 */
import type { DType, TypedArray } from "./dtype.js";

/**
 * Bytes of released arrays a pool keeps at most, and the largest array it keeps: the per-token
 * temporaries of decode are small, and a small cap keeps what the process holds within a few MiB of
 * the ledger's live bytes (ledger.test.ts checks 8 MiB against V8's count). Past these, released
 * arrays are left to the GC.
 */
export const POOL_MAX_BYTES = 4 << 20;
/** The largest array (bytes) a pool keeps. */
export const POOL_MAX_ARRAY_BYTES = 1 << 20;
/** Arrays of one dtype and length a pool keeps at most. */
const PER_SHAPE = 16;

/** Released typed arrays kept for reuse, per dtype and length (see the module comment). */
export class ArrayPool {
  readonly #free = new Map<DType, Map<number, TypedArray[]>>();
  #bytes = 0;

  /** Bytes held for reuse now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A zeroed array of `length` elements of `dtype` from the pool, or undefined when none is kept. */
  take(dtype: DType, length: number): TypedArray | undefined {
    const a = this.#free.get(dtype)?.get(length)?.pop();
    if (a === undefined) return undefined;
    this.#bytes -= a.byteLength;
    a.fill(0);
    return a;
  }

  /** Keep `data` (no longer referenced by any storage) for a later `take`, within the pool's limits. */
  give(dtype: DType, data: TypedArray): void {
    if (data.byteLength > POOL_MAX_ARRAY_BYTES || this.#bytes + data.byteLength > POOL_MAX_BYTES) return;
    let byLength = this.#free.get(dtype);
    if (!byLength) {
      byLength = new Map();
      this.#free.set(dtype, byLength);
    }
    let list = byLength.get(data.length);
    if (!list) {
      list = [];
      byLength.set(data.length, list);
    }
    if (list.length >= PER_SHAPE) return;
    list.push(data);
    this.#bytes += data.byteLength;
  }

  /** Drop every kept array (they become garbage). */
  clear(): void {
    this.#free.clear();
    this.#bytes = 0;
  }
}
