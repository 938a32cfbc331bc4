/**
 * The allocator of long-lived blocks in the WASM linear memory (resident weights): 64-byte aligned
 * first-fit over an address-sorted free list with coalescing, growing a `top` mark. Pure bookkeeping
 * over byte addresses: it never touches the memory (the runtime grows it; resident.ts zeroes and
 * charges the ledger). Per-call workspace is not allocated here: it sits above `top` (runtime.ts).
 */
import { ValueError } from "../errors.js";

/** Every block starts on and spans a multiple of this many bytes (one cache line, any SIMD load). */
export const HEAP_ALIGN = 64;

interface Span {
  at: number;
  size: number;
}

/** Allocator of long-lived, 64-byte aligned blocks in one WASM linear memory (addresses only). */
export class WasmHeap {
  /** First managed address (aligned). */
  readonly base: number;
  #top: number;
  /** Free spans below `top`, sorted by address, never adjacent (coalesced). */
  #free: Span[] = [];
  /** Live blocks: address → size. */
  #live = new Map<number, number>();
  #liveBytes = 0;

  /** Manage addresses from `base` (rounded up to HEAP_ALIGN) upward. */
  constructor(base: number) {
    this.base = Math.ceil(base / HEAP_ALIGN) * HEAP_ALIGN;
    this.#top = this.base;
  }

  /** First byte above every live block (and above the free spans, which lie below it). */
  get top(): number {
    return this.#top;
  }
  /** Bytes in live blocks (sizes as rounded up to HEAP_ALIGN). */
  get liveBytes(): number {
    return this.#liveBytes;
  }
  /** Live blocks. */
  get liveBlocks(): number {
    return this.#live.size;
  }
  /** Bytes in free spans below `top` (fragmentation). */
  get freeBytes(): number {
    let s = 0;
    for (const f of this.#free) s += f.size;
    return s;
  }

  /** Reserve `bytes` (> 0); returns the block's address. The caller makes it addressable. */
  alloc(bytes: number): number {
    if (!(Number.isInteger(bytes) && bytes > 0)) {
      throw new ValueError(`WasmHeap.alloc: bytes must be a positive integer, got ${bytes}`, { bytes });
    }
    const size = Math.ceil(bytes / HEAP_ALIGN) * HEAP_ALIGN;
    let at = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const f = this.#free[i]!;
      if (f.size < size) continue;
      at = f.at;
      if (f.size === size) this.#free.splice(i, 1);
      else {
        f.at += size;
        f.size -= size;
      }
      break;
    }
    if (at < 0) {
      at = this.#top;
      this.#top += size;
    }
    this.#live.set(at, size);
    this.#liveBytes += size;
    return at;
  }

  /** Size of the live block at `at` (0 when none starts there). */
  sizeOf(at: number): number {
    return this.#live.get(at) ?? 0;
  }

  /** Return the block at `at`; throws a ValueError on an address that is not a live block. */
  free(at: number): void {
    const size = this.#live.get(at);
    if (size === undefined) {
      throw new ValueError(`WasmHeap.free: no live block at address ${at} (double free?)`, { at });
    }
    this.#live.delete(at);
    this.#liveBytes -= size;
    // Insert sorted, then merge with the neighbours.
    let i = 0;
    while (i < this.#free.length && this.#free[i]!.at < at) i++;
    this.#free.splice(i, 0, { at, size });
    const next = this.#free[i + 1];
    if (next && at + size === next.at) {
      this.#free[i]!.size += next.size;
      this.#free.splice(i + 1, 1);
    }
    const prev = this.#free[i - 1];
    if (prev && prev.at + prev.size === at) {
      prev.size += this.#free[i]!.size;
      this.#free.splice(i, 1);
      i--;
    }
    // A free span that reaches `top` gives its bytes back to the bump region.
    const last = this.#free[this.#free.length - 1];
    if (last && last.at + last.size === this.#top) {
      this.#top = last.at;
      this.#free.pop();
    }
  }
}
