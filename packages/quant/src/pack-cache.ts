/**
 * A scoped cache of packed bytes: inside `withPackCache(fn)`, packing the same f32 source (same
 * storage and offset, same contents by a hash) in the same format again copies the bytes encoded the
 * first time instead of encoding them again. Each `PackedWeight` still allocates, and the ledger still
 * charges, its own bytes. Not here: any format's encoding (int8.ts, nf4.ts, …) or where the bytes live.
 */
import type { PackedWeight } from "./packed.js";

/** What one encode produced, copied out of the packed weight's storage. */
interface Entry {
  readonly hash: number;
  readonly data: Uint8Array;
  readonly scales: Float32Array;
  readonly extra: Uint8Array;
}

/** Per source storage array: entries by `format|offset|rows×cols`. */
type Cache = WeakMap<object, Map<string, Entry>>;

/**
 * Where the f32 source of a pack lives: its storage's whole array (the key: a tensor's `.data` is a new
 * view on every read) and the tensor's offset in it.
 */
export interface PackSource {
  /** The storage's array (`tensor.storage.data`). */
  readonly base: object;
  /** The tensor's first element in it. */
  readonly offset: number;
}

let active: Cache | null = null;

/**
 * Run `fn` with packed bytes reused across packs of the same source weight (a nested call shares the
 * outer scope's cache). For runs that build many models from one set of weights — the compare app
 * builds each configuration's model for every timed run — so that each build copies the bytes
 * instead of quantising again. A source array whose contents changed since it was packed (its hash
 * differs) is encoded again. The cache holds copies of the packed bytes until the scope ends.
 */
export function withPackCache<T>(fn: () => T): T {
  if (active) return fn();
  active = new WeakMap();
  try {
    return fn();
  } finally {
    active = null;
  }
}

/** Whether a `withPackCache` scope is open. */
export function packCacheActive(): boolean {
  return active !== null;
}

/**
 * A 32-bit hash of the bits of `w` (two multiplicative lanes folded together): cheap next to any
 * encoder (one pass, no division), and any changed element changes it except by a ~2⁻³² collision.
 */
export function sourceHash(w: Float32Array): number {
  const u = new Int32Array(w.buffer, w.byteOffset, w.length);
  let a = 0x811c9dc5 ^ w.length;
  let b = 0x01000193;
  const n = u.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    a = Math.imul(a ^ u[i]!, 0x01000193);
    b = Math.imul(b ^ u[i + 1]!, 0x5bd1e995);
  }
  if (i < n) a = Math.imul(a ^ u[i]!, 0x01000193);
  return (a ^ Math.imul(b, 0x27d4eb2d) ^ (a >>> 15)) | 0;
}

const keyOf = (src: PackSource, format: string, rows: number, cols: number) =>
  `${format}|${src.offset}|${rows}x${cols}`;

/** Bytes of one earlier packing, as `cachedPacking` returns them. */
export type CachedPacking = Entry;

/**
 * The bytes `src` was packed to earlier in this scope as `format` [rows, cols], or undefined when
 * there is no scope, no entry, or the source changed since. `hash` is `sourceHash` of its values.
 */
export function cachedPacking(
  src: PackSource,
  format: string,
  rows: number,
  cols: number,
  hash: number,
): CachedPacking | undefined {
  const e = active?.get(src.base)?.get(keyOf(src, format, rows, cols));
  return e && e.hash === hash ? e : undefined;
}

/** Copy a cached packing into `p` (allocated by the caller for the same format and shape). */
export function copyPacking(e: CachedPacking, p: PackedWeight): void {
  p.data.set(e.data);
  p.scales.set(e.scales);
  p.extra.set(e.extra);
}

/** Keep a copy of `p`'s bytes as the packing of `src` (no-op outside a scope). */
export function remember(src: PackSource, p: PackedWeight, hash: number): void {
  if (!active) return;
  let byFormat = active.get(src.base);
  if (!byFormat) {
    byFormat = new Map();
    active.set(src.base, byFormat);
  }
  byFormat.set(keyOf(src, p.format, p.rows, p.cols), {
    hash,
    data: p.data.slice(),
    scales: p.scales.slice(),
    extra: p.extra.slice(),
  });
}
