/**
 * The ledger's cache of released array buffers: a decode step allocates and frees the same shapes
 * every token (and K/V reads one position longer each time), while a fresh off-heap typed array costs
 * microseconds plus GC work (measured: ~34 µs for 18 624 floats, against ~2 µs to re-zero a cached
 * one). Small arrays get a buffer rounded up to a size class (8 per power of two, so at most 1/8
 * larger), reused by any dtype; views come back zeroed. Not accounting: the ledger charges the exact
 * bytes of the view, and neither the pooled buffers nor the class slack belong to a tensor.
 */
import { allocArray, arrayClass, type DType, type TypedArray } from "./dtype.js";

/**
 * Bytes of released buffers a pool keeps at most: the per-token temporaries of decode are small, and
 * a small cap keeps what the process holds within a few MiB of the ledger's live bytes (ledger.test.ts
 * checks 8 MiB against V8's count). Past it, released buffers are left to the GC.
 */
export const POOL_MAX_BYTES = 4 << 20;
/**
 * The largest array (bytes) allocated through size classes and kept on release: the whole cap, so
 * that decode's K/V reads (a layer's [H, T, D] of a 12-head, 64-wide model passes 1 MiB at 342
 * positions) come back from the pool instead of as fresh arrays, whose first touch of every page
 * costs more than the copy into them. Measured 2026-11-28 (medium, 416-token prompt, 16 decode
 * steps, the cache's `read` timed, runs alternated on a busy machine): 1 MiB 5.6–6.0 → 4 MiB 2.6–3.0
 * ms per token for Q4_0, 3.9–4.1 → 2.7–3.4 for FP32.
 */
export const POOL_MAX_ARRAY_BYTES = POOL_MAX_BYTES;
/** Buffers of one size class a pool keeps at most. */
const PER_CLASS = 16;

/** The buffer size (bytes) an array of `bytes` gets from a pool: 8 classes per power of two above 64. */
export function classBytes(bytes: number): number {
  if (bytes <= 64) return 64;
  // 2^e is the power of two at or above `bytes` (bytes ≤ POOL_MAX_ARRAY_BYTES < 2^31); the step is
  // 1/8 of the power of two below it.
  const e = 32 - Math.clz32(bytes - 1);
  const step = 1 << (e - 4);
  return Math.ceil(bytes / step) * step;
}

/** Released buffers kept for reuse, by size class (see the module comment). */
export class ArrayPool {
  readonly #free = new Map<number, ArrayBuffer[]>();
  #bytes = 0;

  /** Bytes of buffers held for reuse now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * A zeroed array of `length` elements of `dtype`: a view of a pooled or fresh class-sized buffer
   * when it is small enough, else an ordinary exact-size array.
   */
  allocate(dtype: DType, length: number): TypedArray {
    const ctor = arrayClass(dtype);
    const size = length * (ctor?.BYTES_PER_ELEMENT ?? 0);
    if (!ctor || size === 0 || size > POOL_MAX_ARRAY_BYTES) return allocArray(dtype, length);
    const cls = classBytes(size);
    const buf = this.#free.get(cls)?.pop();
    if (buf === undefined) return new ctor(new ArrayBuffer(cls), 0, length);
    this.#bytes -= cls;
    const a = new ctor(buf, 0, length);
    a.fill(0);
    return a;
  }

  /**
   * Keep the buffer of `data` (no longer referenced by any storage) when it is a class-sized one. At
   * the byte cap, buffers of the classes released least recently make room: decode reads K/V one
   * position longer each token, so its arrays move up through the classes, and the classes it left
   * would otherwise hold the cap while every new read took a fresh buffer (on `small`, 81 MB of fresh
   * 160–196 KiB buffers per 240-token decode, ~140 µs of a 0.55 ms step).
   */
  give(data: TypedArray): void {
    const buf = data.buffer;
    const cls = buf.byteLength;
    if (!(buf instanceof ArrayBuffer) || data.byteOffset !== 0 || cls > POOL_MAX_ARRAY_BYTES) return;
    if (cls !== classBytes(data.byteLength)) return;
    let list = this.#free.get(cls);
    if (list)
      this.#free.delete(cls); // re-inserted last: the Map runs from least to most recent
    else list = [];
    this.#free.set(cls, list);
    if (list.length >= PER_CLASS) return;
    if (this.#bytes + cls > POOL_MAX_BYTES) {
      this.#evict(this.#bytes + cls - POOL_MAX_BYTES, cls);
      if (this.#bytes + cls > POOL_MAX_BYTES) return;
    }
    list.push(buf);
    this.#bytes += cls;
  }

  /** Drop at least `bytes` of kept buffers (none of class `keep`), least recently released classes first. */
  #evict(bytes: number, keep: number): void {
    for (const [cls, list] of this.#free) {
      if (cls === keep) continue;
      while (list.length > 0 && bytes > 0) {
        list.pop();
        this.#bytes -= cls;
        bytes -= cls;
      }
      if (list.length === 0) this.#free.delete(cls);
      if (bytes <= 0) return;
    }
  }

  /** Drop every kept buffer (they become garbage). */
  clear(): void {
    this.#free.clear();
    this.#bytes = 0;
  }
}
