/**
 * `PagedKvCache`: per-sequence block tables over a `BlockPool`, blocks allocated as tokens arrive,
 * copy-on-write for forked sequences, prefix-cache reuse of full blocks, and swap to a host pool;
 * with a sliding window, a ring of ⌈window / block⌉ blocks per sequence (the block that fell out of
 * the window is rewritten). Both core's lockstep `KvCache` and the scheduler's `SequenceCache`.
 */
import {
  type AttendOptions,
  copyElements,
  empty,
  type KvCache,
  type KvCacheSpec,
  type KvDtypeExec,
  type KvUsage,
  type SequenceCache,
  type SequenceCacheSpec,
  type Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import { BlockPool, KV_SIDES } from "./block-pool.js";
import { PoolExhaustedError } from "./errors.js";
import { checkKvShape, checkRingWindow } from "./kv-shape.js";
import { type BlockView, type PagedSource, pagedAttention } from "./paged-attention.js";

/** Host pool blocks of a serving cache built with `swap: true`. */
const SERVING_HOST_BLOCKS = 64;

/** Shape, dtype, block size and budget of a `PagedKvCache`. */
export interface PagedCacheOptions {
  /** Decoder layers. */
  readonly layers: number;
  /** K/V heads. */
  readonly kvHeads: number;
  /** Head dimension. */
  readonly headDim: number;
  /** Storage dtype of K/V. */
  readonly dtype: KvDtypeExec;
  /** Tokens per block. */
  readonly block: number;
  /** Device pool size in blocks, or the KV budget in bytes (`budgetBytes`). */
  readonly blocks?: number | undefined;
  /** KV budget in bytes for the device pool. */
  readonly budgetBytes?: number | undefined;
  /** Reuse full blocks of earlier sequences with the same token prefix; default true. */
  readonly prefixCaching?: boolean | undefined;
  /** Host swap pool size in blocks (ledger category `kv/host`); default 0 (no swapping). */
  readonly hostBlocks?: number | undefined;
  /** Lockstep use as core's `KvCache`: sequences 0..batch-1 are added up front. */
  readonly batch?: number | undefined;
  /**
   * Sliding window: each sequence keeps only its last `window` positions, in a ring of
   * ⌈window / block⌉ blocks (position p in table entry ⌊p / block⌋ mod ring); prefix caching is off.
   * Default: keep all.
   */
  readonly window?: number | undefined;
}

interface Seq {
  /** Device block ids, position p lives in table[⌊p / block⌋ mod ring]. */
  table: number[];
  /** Prefix-cache key of each full block (null: not keyed). */
  keys: (string | null)[];
  length: number;
  /** Positions appended per layer and not yet committed. */
  pending: Int32Array;
  /** Committed token ids, or null once a commit came without ids (no prefix caching then). */
  tokens: number[] | null;
  /** Host block ids while swapped out. */
  host: number[] | null;
}

/**
 * K/V in blocks of a `BlockPool`, allocated as tokens arrive and shared copy-on-write: the `Paged`
 * kv-memory layout.
 */
export class PagedKvCache implements KvCache, SequenceCache, PagedSource {
  /** Layout name (`paged`) for messages and reports. */
  readonly kind = "paged";
  /** The device block pool. */
  readonly pool: BlockPool;
  /** The host swap pool, or null without swapping. */
  readonly host: BlockPool | null;
  /** Decoder layers. */
  readonly layers: number;
  /** K/V heads. */
  readonly kvHeads: number;
  /** Head dimension. */
  readonly headDim: number;
  /** Token slots per block. */
  readonly block: number;
  /** Device bytes per cached token (every layer, K and V, scales included). */
  readonly tokenBytes: number;
  /** Whether full blocks are shared between sequences with the same token prefix. */
  readonly prefixCaching: boolean;
  /** Positions each sequence keeps (a rolling buffer), or undefined to keep all. */
  readonly window: number | undefined;
  /** Table entries per sequence: ⌈window / block⌉, or Infinity without a window. */
  readonly #ring: number;
  readonly #dtype: KvDtypeExec;
  readonly #seqs = new Map<number, Seq>();
  readonly #batch: number;

  constructor(o: PagedCacheOptions) {
    if (o.window !== undefined && !(Number.isInteger(o.window) && o.window >= 1))
      throw new ValueError(`PagedKvCache: window must be a positive integer, got ${o.window}`);
    this.pool = new BlockPool({ ...o, name: "device KV pool" });
    this.host =
      o.hostBlocks && o.hostBlocks > 0
        ? new BlockPool({ ...o, blocks: o.hostBlocks, category: "kv/host", name: "host KV pool" })
        : null;
    this.layers = o.layers;
    this.kvHeads = o.kvHeads;
    this.headDim = o.headDim;
    this.block = o.block;
    this.#dtype = o.dtype;
    this.tokenBytes = this.pool.blockBytes / o.block;
    this.window = o.window;
    this.#ring = o.window === undefined ? Number.POSITIVE_INFINITY : Math.ceil(o.window / o.block);
    // A ring rewrites full blocks, which the prefix cache treats as immutable: no sharing by prefix.
    this.prefixCaching = o.window === undefined && (o.prefixCaching ?? true);
    this.#batch = o.batch ?? 0;
    for (let b = 0; b < this.#batch; b++) this.addSequence(b, { maxTokens: 0 });
  }

  /**
   * A lockstep cache for core's `KvCache` contract: pool of batch × ⌈maxSeq / block⌉ blocks (with
   * `spec.window`, batch × ⌈min(maxSeq, window) / block⌉), filled on demand.
   */
  static forBatch(spec: KvCacheSpec, block: number): PagedKvCache {
    const held = Math.min(spec.maxSeq, spec.window ?? spec.maxSeq);
    return new PagedKvCache({
      layers: spec.layers,
      kvHeads: spec.kvHeads,
      headDim: spec.headDim,
      dtype: spec.dtype,
      block,
      blocks: spec.batch * Math.ceil(held / block),
      batch: spec.batch,
      window: spec.window,
    });
  }

  /**
   * The serving cache of `Paged[block]`: a device pool of `spec.budgetBytes`, prefix caching on (off
   * with `spec.window`: a ring), and a host pool of 64 blocks when `spec.swap` (none otherwise).
   */
  static forServing(spec: SequenceCacheSpec, block: number): PagedKvCache {
    return new PagedKvCache({
      layers: spec.layers,
      kvHeads: spec.kvHeads,
      headDim: spec.headDim,
      dtype: spec.dtype,
      block,
      budgetBytes: spec.budgetBytes,
      hostBlocks: spec.swap ? SERVING_HOST_BLOCKS : 0,
      window: spec.window,
    });
  }

  /** The KV budget in tokens. */
  get capacityTokens(): number {
    return this.pool.capacity * this.block;
  }
  /** Whether `swapOut`/`swapIn` work (a host pool exists). */
  get canSwap(): boolean {
    return this.host !== null;
  }

  // ---- core KvCache (lockstep) --------------------------------------------------------------

  /** The cache's shape (core's `KvCacheSpec`), for lockstep use as a `KvCache`. */
  get spec(): KvCacheSpec {
    return {
      batch: this.#batch,
      layers: this.layers,
      kvHeads: this.kvHeads,
      headDim: this.headDim,
      maxSeq: this.capacityTokens,
      dtype: this.#dtype,
      window: this.window,
    };
  }

  /** Tokens cached per sequence in lockstep use (sequence 0's length). */
  get length(): number {
    return this.#seqs.get(0)?.length ?? 0;
  }

  /** k, v [B, Hkv, T, D] for the lockstep sequences 0..B-1. */
  append(layer: number, k: Tensor, v: Tensor): void {
    const B = this.#batch;
    const T = checkKvShape("PagedKvCache.append", k, v, B, this.kvHeads, this.headDim);
    const per = this.kvHeads * T * this.headDim;
    for (let b = 0; b < B; b++) {
      this.#write(
        this.#seq(b),
        layer,
        k.data.subarray(b * per, (b + 1) * per),
        v.data.subarray(b * per, (b + 1) * per),
        T,
      );
    }
  }

  /**
   * Gathers every lockstep sequence into f32 [B, Hkv, T, D] `tmp` tensors (the generic path): all
   * positions, or with a window the last min(length, window) in order.
   */
  read(layer: number): { k: Tensor; v: Tensor } {
    const B = this.#batch;
    const end = B ? this.#seq(0).length + this.#seq(0).pending[layer]! : 0;
    const T = this.#held(end);
    // In the backend's memory when it has one (as ContiguousKvCache.read): read there in place.
    const k = empty([B, this.kvHeads, T, this.headDim], { resident: true });
    const v = empty([B, this.kvHeads, T, this.headDim], { resident: true });
    for (let b = 0; b < B; b++)
      this.#gather(this.#seq(b), layer, end - T, T, k.data, v.data, b * this.kvHeads * T * this.headDim);
    return { k, v };
  }

  /** Lockstep use: mark `tokens` new positions of every sequence complete. */
  advance(tokens: number): void {
    for (let b = 0; b < this.#batch; b++) this.commit(b, tokens);
  }

  // ---- per-sequence API ---------------------------------------------------------------------

  /** Could a sequence join now, prefilling `promptTokens` and able to grow to `maxTokens`? */
  canAdmit(promptTokens: number, _maxTokens: number): boolean {
    // Headroom (1% of the pool, at least one block, as vLLM's watermark) so running sequences can grow.
    const watermark = Math.max(1, Math.ceil(this.pool.capacity / 100));
    return this.pool.available >= Math.ceil(this.#ringTokens(promptTokens) / this.block) + watermark;
  }

  /**
   * Token slots of device memory a sequence of `tokens` tokens, able to grow to `maxTokens`, holds.
   */
  footprintTokens(tokens: number, _maxTokens: number): number {
    return Math.ceil(this.#ringTokens(tokens) / this.block) * this.block;
  }

  /**
   * The live tokens (prompt plus half the output, on average, at most the ring) and half a block of
   * slack at the end.
   */
  meanHeldTokens(promptTokens: number, outputTokens: number, _maxTokens: number): number {
    return this.#ringTokens(promptTokens + outputTokens / 2) + this.block / 2;
  }

  /** Adds sequence `seqId`; returns how many leading prompt tokens were found cached. */
  addSequence(
    seqId: number,
    options: { readonly tokens?: readonly number[]; readonly maxTokens: number },
  ): number {
    if (this.#seqs.has(seqId))
      throw new ValueError(`PagedKvCache: sequence ${seqId} already exists; free it first`);
    const s: Seq = {
      table: [],
      keys: [],
      length: 0,
      pending: new Int32Array(this.layers),
      tokens: [],
      host: null,
    };
    this.#seqs.set(seqId, s);
    const prompt = options.tokens;
    if (prompt && this.prefixCaching) {
      // Keep at least one prompt token to compute: the model needs logits for the last position.
      const full = Math.floor((prompt.length - 1) / this.block);
      let parent = "";
      for (let j = 0; j < full; j++) {
        const toks = prompt.slice(j * this.block, (j + 1) * this.block);
        const hit = this.pool.lookup(parent, toks);
        if (!hit) break;
        s.table.push(hit.block);
        s.keys.push(hit.key);
        s.tokens!.push(...toks);
        s.length += this.block;
        parent = hit.key;
      }
    }
    return s.length;
  }

  /** Makes room for `tokens` more positions of `seqId`; false if memory is short. */
  ensureCapacity(seqId: number, tokens: number): boolean {
    const s = this.#seq(seqId);
    const start = s.length + Math.max(0, ...s.pending);
    const { fresh, cow, entries } = this.#blocksNeeded(s, start, tokens);
    if (this.pool.available < fresh + cow) return false;
    for (const j of entries) this.#writable(s, j);
    return true;
  }

  /** k, v [1, Hkv, T, D]. */
  appendTokens(seqId: number, layer: number, k: Tensor, v: Tensor): void {
    const T = checkKvShape("PagedKvCache.appendTokens", k, v, 1, this.kvHeads, this.headDim);
    this.#write(this.#seq(seqId), layer, k.data, v.data, T);
  }

  /** Marks the appended positions complete (every layer wrote them): their ids, or just a count. */
  commit(seqId: number, tokens: readonly number[] | number): void {
    const s = this.#seq(seqId);
    const n = typeof tokens === "number" ? tokens : tokens.length;
    for (let l = 0; l < this.layers; l++) {
      if (s.pending[l] !== n) {
        throw new ValueError(
          `PagedKvCache: commit(${n}) for sequence ${seqId} but layers appended [${s.pending}]; append every layer first`,
        );
      }
    }
    const before = s.length;
    s.length += n;
    s.pending.fill(0);
    if (typeof tokens === "number") s.tokens = null;
    else s.tokens?.push(...tokens);
    const bs = this.block;
    for (let j = Math.floor(before / bs); j * bs < s.length; j++) {
      const id = s.table[j % this.#ring]!;
      // A ring block being rewritten still holds the older positions after the new ones: all slots live.
      const filled = j >= this.#ring ? bs : Math.min(bs, s.length - j * bs);
      this.pool.setFilled(id, filled);
      if (filled === bs && this.prefixCaching && s.tokens && (s.keys[j] ?? null) === null) {
        const parent = j === 0 ? "" : s.keys[j - 1];
        if (parent !== null && parent !== undefined) {
          s.keys[j] = this.pool.register(id, parent, s.tokens.slice(j * bs, (j + 1) * bs));
        }
      }
    }
  }

  /**
   * Attention of q [1, H, Tq, D] over sequence `seqId`'s cached K/V for `layer`. Once a ring has
   * wrapped, every query's window must fit in it (older keys are gone).
   */
  attend(q: Tensor, seqId: number, layer: number, options: AttendOptions): Tensor {
    if (this.window !== undefined) {
      const s = this.#seq(seqId);
      const tq = q.rank === 4 ? q.dim(2) : 1;
      checkRingWindow(
        "PagedKvCache.attend",
        seqId,
        s.length + s.pending[layer]!,
        this.#ring * this.block,
        tq,
        options,
      );
    }
    return pagedAttention(q, this, seqId, layer, options);
  }

  /**
   * Where sequence `seqId`'s K/V for `layer` lives (block stores in position order; a ring's entries
   * repeat, so positions that fell out of the window read newer data and must be masked).
   */
  blockView(seqId: number, layer: number): { view: BlockView; tokens: number } {
    const s = this.#seq(seqId);
    if (s.host) throw new ValueError(`PagedKvCache: sequence ${seqId} is swapped out; swapIn() it first`);
    const tokens = s.length + s.pending[layer]!;
    const blocks = Math.max(s.table.length, Math.ceil(tokens / this.block));
    return {
      view: {
        stores: Array.from({ length: blocks }, (_, j) => this.pool.store(s.table[j % this.#ring]!)),
        block: this.block,
        kvHeads: this.kvHeads,
        headDim: this.headDim,
      },
      tokens,
    };
  }

  /** The device block ids of a sequence (position p in entry ⌊p / block⌋, mod the ring with a window). */
  blockTable(seqId: number): readonly number[] {
    return [...this.#seq(seqId).table];
  }

  /** Tokens cached for sequence `seqId`. */
  sequenceLength(seqId: number): number {
    return this.#seq(seqId).length;
  }

  /** Whether sequence `seqId` exists (device-resident or swapped). */
  has(seqId: number): boolean {
    return this.#seqs.has(seqId);
  }

  /**
   * Gather one sequence's cached K/V for `layer` into f32 [1, Hkv, T, D] `tmp` tensors (tests, generic
   * path): every position, or with a window the last min(length, window).
   */
  readSequence(seqId: number, layer: number): { k: Tensor; v: Tensor } {
    const s = this.#seq(seqId);
    const end = s.length + s.pending[layer]!;
    const T = this.#held(end);
    const k = empty([1, this.kvHeads, T, this.headDim]);
    const v = empty([1, this.kvHeads, T, this.headDim]);
    this.#gather(s, layer, end - T, T, k.data, v.data, 0);
    return { k, v };
  }

  /** `child` starts as a copy of `parent`; false if memory is short. */
  fork(parent: number, child: number): boolean {
    const p = this.#seq(parent);
    if (p.pending.some((x) => x !== 0))
      throw new ValueError(`PagedKvCache: fork(${parent}) with uncommitted positions; commit first`);
    if (p.host)
      throw new ValueError(`PagedKvCache: sequence ${parent} is swapped out; swapIn() it before forking`);
    if (this.#seqs.has(child))
      throw new ValueError(`PagedKvCache: sequence ${child} already exists; free it first`);
    for (const id of p.table) this.pool.retain(id);
    this.#seqs.set(child, {
      table: [...p.table],
      keys: [...p.keys],
      length: p.length,
      pending: new Int32Array(this.layers),
      tokens: p.tokens ? [...p.tokens] : null,
      host: null,
    });
    return true;
  }

  /** Releases sequence `seqId` and its K/V. */
  free(seqId: number): void {
    const s = this.#seq(seqId);
    for (const id of s.table) this.pool.release(id);
    if (s.host) for (const id of s.host) this.host!.release(id);
    this.#seqs.delete(seqId);
  }

  /** Moves a sequence's K/V to the host pool; false if there is none or it is full. */
  swapOut(seqId: number): boolean {
    const s = this.#seq(seqId);
    if (!this.host || s.host) return false;
    if (s.pending.some((x) => x !== 0))
      throw new ValueError(`PagedKvCache: swapOut(${seqId}) with uncommitted positions`);
    if (this.host.available < s.table.length) return false;
    s.host = s.table.map((id) => {
      const h = this.host!.allocate();
      this.host!.copyBlock(this.pool, id, h, this.pool.filled(id));
      this.pool.release(id);
      return h;
    });
    s.table = [];
    return true;
  }

  /** Brings a swapped-out sequence back to the device; false if the device is short. */
  swapIn(seqId: number): boolean {
    const s = this.#seq(seqId);
    if (!s.host) return true;
    if (this.pool.available < s.host.length) return false;
    s.table = s.host.map((h) => {
      const id = this.pool.allocate();
      this.pool.copyBlock(this.host!, h, id, this.host!.filled(h));
      this.host!.release(h);
      return id;
    });
    s.host = null;
    return true;
  }

  /** Whether sequence `seqId` is swapped out to the host pool. */
  isSwapped(seqId: number): boolean {
    return this.#seq(seqId).host !== null;
  }

  /** KV bytes reserved, used (real tokens), cached and on the host, and running sequences, now. */
  usage(): KvUsage {
    const seen = new Set<number>();
    let usedTokens = 0;
    let onDevice = 0;
    let hostBlocks = 0;
    for (const s of this.#seqs.values()) {
      if (s.host) hostBlocks += s.host.length;
      else onDevice++;
      for (const id of s.table) {
        if (seen.has(id)) continue;
        seen.add(id);
        usedTokens += this.pool.filled(id);
      }
    }
    return {
      reservedBytes: seen.size * this.pool.blockBytes,
      usedBytes: usedTokens * this.tokenBytes,
      cachedBytes: this.pool.cachedIdle * this.pool.blockBytes,
      hostBytes: hostBlocks * (this.host?.blockBytes ?? 0),
      sequences: onDevice,
    };
  }

  /** Frees all K/V storage. */
  dispose(): void {
    this.#seqs.clear();
    this.pool.dispose();
    this.host?.dispose();
  }

  // ---- internals ----------------------------------------------------------------------------

  #seq(seqId: number): Seq {
    const s = this.#seqs.get(seqId);
    if (!s) {
      throw new ValueError(
        `PagedKvCache: no sequence ${seqId}; known: [${[...this.#seqs.keys()].slice(0, 16)}]`,
        { seqId },
      );
    }
    return s;
  }

  /** Positions a sequence of `tokens` holds: all, or the last `window`. */
  #held(tokens: number): number {
    return Math.min(tokens, this.window ?? tokens);
  }

  /** Token slots of the ring (all `tokens` without a window). */
  #ringTokens(tokens: number): number {
    return Math.min(tokens, this.#ring * this.block);
  }

  /**
   * Pool blocks a write of `tokens` positions from `start` takes: `fresh` new table entries, plus `cow`
   * for copying shared blocks the write lands in; `entries`: the table entries written, in order
   * (a ring revisits its own, and with a fork some are shared).
   */
  #blocksNeeded(s: Seq, start: number, tokens: number): { fresh: number; cow: number; entries: number[] } {
    const bs = this.block;
    const entries: number[] = [];
    if (tokens <= 0) return { fresh: 0, cow: 0, entries };
    // A write longer than the ring keeps only its last ring·block positions.
    const from = Math.max(start, start + tokens - this.#ringTokens(start + tokens));
    const last = Math.floor((start + tokens - 1) / bs);
    for (let j = Math.floor(from / bs); j <= last && entries.length < this.#ring; j++)
      entries.push(j % this.#ring);
    let fresh = 0;
    let cow = 0;
    for (const e of entries) {
      if (e >= s.table.length) fresh++;
      else if (this.pool.refs(s.table[e]!) > 1) cow++;
    }
    entries.sort((a, b) => a - b);
    return { fresh, cow, entries };
  }

  /** Make table entry j exist and be exclusively owned (allocate, or copy a shared block). */
  #writable(s: Seq, j: number): number {
    if (j === s.table.length) {
      const id = this.pool.allocate();
      s.table.push(id);
      s.keys.push(null);
      return id;
    }
    const old = s.table[j]!;
    if (this.pool.refs(old) === 1) return old;
    const id = this.pool.allocate();
    this.pool.copyBlock(this.pool, old, id, this.pool.filled(old));
    this.pool.release(old);
    s.table[j] = id;
    return id;
  }

  /** k, v: [Hkv, T, D] flat for one sequence. */
  #write(s: Seq, layer: number, k: Float32Array, v: Float32Array, T: number): void {
    if (!(Number.isInteger(layer) && layer >= 0 && layer < this.layers)) {
      throw new ValueError(`PagedKvCache: layer ${layer} is outside [0, ${this.layers})`);
    }
    if (s.host)
      throw new ValueError("PagedKvCache: cannot append to a swapped-out sequence; swapIn() it first");
    const { block: bs, kvHeads: H, headDim: D } = this;
    const start = s.length + s.pending[layer]!;
    const { fresh, cow, entries } = this.#blocksNeeded(s, start, T);
    if (fresh + cow > this.pool.available) {
      throw new PoolExhaustedError({
        pool: this.pool.name,
        requested: fresh + cow,
        free: this.pool.available,
        capacity: this.pool.capacity,
        blockBytes: this.pool.blockBytes,
      });
    }
    for (const j of entries) this.#writable(s, j); // allocate (in table order) and unshare first
    // A write longer than the ring keeps only its last ring·block positions.
    for (let i = Math.max(0, T - this.#ringTokens(start + T)); i < T; i++) {
      const p = start + i;
      const id = s.table[Math.floor(p / bs) % this.#ring]!;
      const store = this.pool.store(id);
      const slot = p % bs;
      for (let h = 0; h < H; h++) {
        const src = (h * T + i) * D;
        store.write(this.pool.vectorIndex(layer, 0, h, slot), k, src);
        store.write(this.pool.vectorIndex(layer, 1, h, slot), v, src);
      }
    }
    s.pending[layer] = s.pending[layer]! + T;
  }

  /**
   * Decode positions [first, first + T) of `layer` into k/v laid out [Hkv, T, D] at `offset`: per
   * block, a head's slots are adjacent vectors, so an f32 block copies each head's run of positions in
   * one `copyElements` (one memory.copy when both sides are resident) instead of a call per vector.
   */
  #gather(
    s: Seq,
    layer: number,
    first: number,
    T: number,
    k: Float32Array,
    v: Float32Array,
    offset: number,
  ): void {
    const { block: bs, kvHeads: H, headDim: D } = this;
    for (let p = first; p < first + T; ) {
      const slot = p % bs;
      const run = Math.min(bs - slot, first + T - p); // positions left in this block
      const store = this.pool.store(s.table[Math.floor(p / bs) % this.#ring]!);
      for (let h = 0; h < H; h++) {
        const dst = offset + (h * T + p - first) * D;
        for (const kv of KV_SIDES) {
          const out = kv === 0 ? k : v;
          const at = this.pool.vectorIndex(layer, kv, h, slot);
          if (store.f32) copyElements(out, dst, store.f32, at * D, run * D);
          else for (let i = 0; i < run; i++) store.read(at + i, out, dst + i * D);
        }
      }
      p += run;
    }
  }
}
