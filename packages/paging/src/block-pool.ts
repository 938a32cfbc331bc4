/**
 * The KV block allocator: fixed-size blocks (`block` slots of every layer's K and V), reference counts,
 * a free list and an LRU prefix cache of full blocks keyed by hash(parent key, tokens). It owns storage,
 * not sequences: block tables and copy-on-write live in `PagedKvCache`.
 */
import { type KvDtypeExec, type KvStore, ValueError } from "@tradeoffs/core-tensor";
import { PoolExhaustedError } from "./errors.js";

/** Shape, dtype and size of a `BlockPool` (give `blocks` or `budgetBytes`). */
export interface BlockPoolOptions {
  /** Layers whose K/V a block holds. */
  readonly layers: number;
  /** K/V heads. */
  readonly kvHeads: number;
  /** Head dimension. */
  readonly headDim: number;
  /** Tokens per block. */
  readonly block: number;
  /** Storage dtype of the K/V entries. */
  readonly dtype: KvDtypeExec;
  /** Pool size in blocks; or give `budgetBytes` and the pool takes as many blocks as fit. */
  readonly blocks?: number | undefined;
  /** Size the pool by bytes: as many blocks as fit. */
  readonly budgetBytes?: number | undefined;
  /** Ledger category of block storage; default `kv` (the host swap pool uses `kv/host`). */
  readonly category?: string | undefined;
  /** Name in error messages; default `KV block pool`. */
  readonly name?: string | undefined;
}

/** Prefix-cache counters. `hitRate` = hits / (hits + misses), by block lookups. */
export interface PrefixCacheStats {
  /** Full blocks found in the prefix cache. */
  readonly hits: number;
  /** Full blocks looked up and not found. */
  readonly misses: number;
  /** Cached blocks evicted (LRU) to make room. */
  readonly evictions: number;
  /** hits / (hits + misses); 0 with no lookups. */
  readonly hitRate: number;
}

interface CacheEntry {
  readonly key: string;
  readonly parent: string;
  readonly tokens: readonly number[];
  readonly block: number;
}

/** Bytes of one block: layers × {K, V} × kvHeads × block vectors of headDim elements (+ scales). */
export function blockBytes(
  layers: number,
  kvHeads: number,
  headDim: number,
  block: number,
  dtype: Pick<KvDtypeExec, "bytesPerElement" | "scaleBytesPerVector">,
): number {
  return layers * 2 * kvHeads * block * (headDim * dtype.bytesPerElement + dtype.scaleBytesPerVector);
}

/** The K and V sides of a layer's slots (one array, not one per loop: the caches' `read` runs every decode step). */
export const KV_SIDES = [0, 1] as const;

/**
 * Vector index of (layer, K=0/V=1, head, slot) in the store of a block of `block` slots: the slots of
 * a head are adjacent. (`pagedAttention` inlines this layout in its kernel.)
 */
export function blockVectorIndex(
  kvHeads: number,
  block: number,
  layer: number,
  kv: 0 | 1,
  head: number,
  slot: number,
): number {
  return ((layer * 2 + kv) * kvHeads + head) * block + slot;
}

/** Key of a full block: FNV-1a over (parent key, tokens), two 32-bit lanes. Collisions are checked on lookup. */
export function blockKey(parent: string, tokens: readonly number[]): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ tokens.length;
  const mix = (x: number) => {
    a = Math.imul(a ^ x, 0x01000193) >>> 0;
    b = Math.imul(b ^ x ^ (a >>> 7), 0x5bd1e995) >>> 0;
  };
  for (let i = 0; i < parent.length; i++) mix(parent.charCodeAt(i));
  mix(0x2f);
  for (const t of tokens) {
    mix(t & 0xffff);
    mix(t >>> 16);
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/**
 * Fixed-size K/V blocks with reference counts and a prefix cache: the memory under `Paged` (device
 * pool and host swap pool).
 */
export class BlockPool {
  /** Layers whose K/V a block holds. */
  readonly layers: number;
  /** K/V heads. */
  readonly kvHeads: number;
  /** Head dimension. */
  readonly headDim: number;
  /** Token slots per block. */
  readonly block: number;
  /** Storage dtype. */
  readonly dtype: KvDtypeExec;
  /** Ledger category the blocks are charged to. */
  readonly category: string;
  /** Pool name used in errors. */
  readonly name: string;
  /** Blocks in the pool. */
  readonly capacity: number;
  /** Bytes one block holds in the ledger. */
  readonly blockBytes: number;

  /** Storage of each block id; allocated on first use, released when the block is freed. */
  readonly #stores: (KvStore | null)[];
  readonly #refs: Int32Array;
  /** Token slots written in each block (full blocks are immutable). */
  readonly #filled: Int32Array;
  /** Ids with no storage, popped from the end (lowest id first). */
  readonly #free: number[];
  /** Prefix cache: key → entry, and block → its key. */
  readonly #byKey = new Map<string, CacheEntry>();
  readonly #keyOf = new Map<number, string>();
  /** Unreferenced cached blocks in LRU order (Map keeps insertion order: first = least recent). */
  readonly #evictable = new Map<number, true>();
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(o: BlockPoolOptions) {
    for (const [k, v] of Object.entries({
      layers: o.layers,
      kvHeads: o.kvHeads,
      headDim: o.headDim,
      block: o.block,
    })) {
      if (!(Number.isInteger(v) && v >= 1)) {
        throw new ValueError(`BlockPool: ${k} must be a positive integer, got ${v}`, { [k]: v });
      }
    }
    this.layers = o.layers;
    this.kvHeads = o.kvHeads;
    this.headDim = o.headDim;
    this.block = o.block;
    this.dtype = o.dtype;
    this.category = o.category ?? "kv";
    this.name = o.name ?? "KV block pool";
    this.blockBytes = blockBytes(o.layers, o.kvHeads, o.headDim, o.block, o.dtype);
    let capacity: number;
    if (o.blocks !== undefined) capacity = o.blocks;
    else if (o.budgetBytes !== undefined) capacity = Math.floor(o.budgetBytes / this.blockBytes);
    else throw new ValueError("BlockPool: give `blocks` or `budgetBytes` (the KV memory budget)");
    if (!(Number.isInteger(capacity) && capacity >= 0)) {
      throw new ValueError(`BlockPool: blocks must be a non-negative integer, got ${capacity}`, {
        blocks: capacity,
      });
    }
    this.capacity = capacity;
    this.#stores = new Array<KvStore | null>(capacity).fill(null);
    this.#refs = new Int32Array(capacity);
    this.#filled = new Int32Array(capacity);
    this.#free = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
  }

  /** Blocks that can be handed out now: free ids plus unreferenced cached blocks (evictable). */
  get available(): number {
    return this.#free.length + this.#evictable.size;
  }
  /** Blocks referenced by at least one sequence. */
  get inUse(): number {
    return this.capacity - this.#free.length - this.#evictable.size;
  }
  /** Unreferenced blocks kept for the prefix cache. */
  get cachedIdle(): number {
    return this.#evictable.size;
  }
  /** Ids on the free list (no storage). */
  get freeIds(): number {
    return this.#free.length;
  }

  /** Vector index inside a block's store of (layer, K=0/V=1, head, slot): slots of a head are adjacent. */
  vectorIndex(layer: number, kv: 0 | 1, head: number, slot: number): number {
    return blockVectorIndex(this.kvHeads, this.block, layer, kv, head, slot);
  }

  /** Take a block (ref 1): a free id, else the least recently used idle cached block. */
  allocate(): number {
    let id = this.#free.pop();
    if (id === undefined) {
      const lru = this.#evictable.keys().next();
      if (lru.done) {
        throw new PoolExhaustedError({
          pool: this.name,
          requested: 1,
          free: 0,
          capacity: this.capacity,
          blockBytes: this.blockBytes,
        });
      }
      id = lru.value;
      this.#evictable.delete(id);
      this.#uncache(id);
      this.#evictions++;
    }
    if (this.#stores[id] === null) {
      const vectors = this.layers * 2 * this.kvHeads * this.block;
      try {
        this.#stores[id] = this.dtype.allocate(vectors, this.headDim, this.category);
      } catch (e) {
        this.#free.push(id);
        throw e;
      }
    }
    this.#refs[id] = 1;
    this.#filled[id] = 0;
    return id;
  }

  /** Add a reference (a sequence sharing the block). */
  retain(id: number): void {
    this.#check(id);
    if (this.#refs[id] === 0) {
      if (!this.#evictable.delete(id))
        throw new ValueError(`${this.name}: block ${id} is free; allocate it first`);
    }
    this.#refs[id] = this.#refs[id]! + 1;
  }

  /** Drop a reference; at zero a cached block becomes evictable, others return to the free list. */
  release(id: number): void {
    this.#check(id);
    if (this.#refs[id]! <= 0)
      throw new ValueError(`${this.name}: block ${id} released more often than retained`);
    this.#refs[id] = this.#refs[id]! - 1;
    if (this.#refs[id] === 0) {
      if (this.#keyOf.has(id)) this.#evictable.set(id, true);
      else this.#drop(id);
    }
  }

  /** References to block `id` (sequences and the prefix cache). */
  refs(id: number): number {
    this.#check(id);
    return this.#refs[id]!;
  }

  /** Token slots written in block `id`. */
  filled(id: number): number {
    return this.#filled[id]!;
  }

  /** Record that slots [0, n) of a block hold tokens. */
  setFilled(id: number, n: number): void {
    this.#filled[id] = n;
  }

  /** Storage of block `id`; throws a ValueError if the block is free. */
  store(id: number): KvStore {
    const s = this.#stores[id];
    if (!s) throw new ValueError(`${this.name}: block ${id} has no storage (it is free)`);
    return s;
  }

  /** Copy slots [0, slots) of every layer, K and V, from block `src` of `from` into block `dst` of this pool. */
  copyBlock(from: BlockPool, src: number, dst: number, slots: number): void {
    const a = from.store(src);
    const b = this.store(dst);
    const D = this.headDim;
    if (a.f32 && b.f32 && from.block === this.block) {
      b.f32.set(a.f32.subarray(0, a.count * D));
    } else {
      const tmp = new Float32Array(D); // one vector of scratch
      for (let l = 0; l < this.layers; l++)
        for (const kv of [0, 1] as const)
          for (let h = 0; h < this.kvHeads; h++)
            for (let s = 0; s < slots; s++) {
              a.read(from.vectorIndex(l, kv, h, s), tmp, 0);
              b.write(this.vectorIndex(l, kv, h, s), tmp, 0);
            }
    }
    this.#filled[dst] = slots;
  }

  // ---- prefix cache -------------------------------------------------------------------------

  /**
   * The cached block holding `tokens` after the block keyed `parent`, retained for the caller, or
   * undefined (counted as a miss).
   */
  lookup(parent: string, tokens: readonly number[]): { block: number; key: string } | undefined {
    const key = blockKey(parent, tokens);
    const e = this.#byKey.get(key);
    if (e && e.parent === parent && sameTokens(e.tokens, tokens)) {
      this.#hits++;
      this.retain(e.block);
      return { block: e.block, key };
    }
    this.#misses++;
    return undefined;
  }

  /** Offer a full block to the prefix cache; returns its key (a duplicate key keeps the first block). */
  register(id: number, parent: string, tokens: readonly number[]): string {
    this.#check(id);
    const key = blockKey(parent, tokens);
    if (!this.#byKey.has(key) && !this.#keyOf.has(id)) {
      this.#byKey.set(key, { key, parent, tokens: [...tokens], block: id });
      this.#keyOf.set(id, key);
    }
    return key;
  }

  /** Prefix-cache hits, misses and evictions so far. */
  get prefixStats(): PrefixCacheStats {
    const n = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      hitRate: n ? this.#hits / n : 0,
    };
  }

  /** Forget every idle cached block (their storage returns to the ledger). */
  evictAll(): void {
    for (const id of [...this.#evictable.keys()]) {
      this.#evictable.delete(id);
      this.#uncache(id);
      this.#drop(id);
    }
  }

  /** Consistency problems (for tests): every id is exactly one of free, idle-cached or referenced. */
  audit(): string[] {
    const problems: string[] = [];
    const free = new Set(this.#free);
    if (free.size !== this.#free.length) problems.push("a block id is on the free list twice");
    for (let id = 0; id < this.capacity; id++) {
      const r = this.#refs[id]!;
      const states = [free.has(id), this.#evictable.has(id), r > 0].filter(Boolean).length;
      if (states !== 1)
        problems.push(`block ${id}: free=${free.has(id)} idle=${this.#evictable.has(id)} refs=${r}`);
      if (free.has(id) && this.#stores[id] !== null) problems.push(`free block ${id} still holds storage`);
      if (this.#evictable.has(id) && !this.#keyOf.has(id)) problems.push(`idle block ${id} is not cached`);
    }
    return problems;
  }

  /** Release every block's storage. The pool is unusable afterwards. */
  dispose(): void {
    for (let id = 0; id < this.capacity; id++) {
      this.#stores[id]?.dispose();
      this.#stores[id] = null;
      this.#refs[id] = 0;
    }
    this.#byKey.clear();
    this.#keyOf.clear();
    this.#evictable.clear();
    this.#free.length = 0;
  }

  #uncache(id: number): void {
    const key = this.#keyOf.get(id);
    if (key !== undefined) {
      this.#byKey.delete(key);
      this.#keyOf.delete(id);
    }
  }

  #drop(id: number): void {
    this.#stores[id]?.dispose();
    this.#stores[id] = null;
    this.#filled[id] = 0;
    this.#free.push(id);
  }

  #check(id: number): void {
    if (!(Number.isInteger(id) && id >= 0 && id < this.capacity)) {
      throw new ValueError(`${this.name}: block id ${id} is outside [0, ${this.capacity})`);
    }
  }
}

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
