/**
 * `ContiguousKvCache`: the pre-paging layout, core's lockstep `KvCache` and the scheduler's `SequenceCache`.
 * Each sequence reserves its maximum length on joining, inside a KV budget, as one block of `maxTokens`
 * slots read by the paged block kernel; with a sliding window, a ring of min(maxTokens, window) slots
 * (position p in slot p mod slots). Not a block allocator (that is `BlockPool`).
 */
import {
  type AttendOptions,
  copyElements,
  empty,
  type KvCache,
  type KvCacheSpec,
  type KvDtypeExec,
  type KvStore,
  type KvUsage,
  type SequenceCache,
  type SequenceCacheSpec,
  Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import { blockBytes, blockVectorIndex, KV_SIDES } from "./block-pool.js";
import { PoolExhaustedError } from "./errors.js";
import { checkKvShape, checkRingWindow } from "./kv-shape.js";
import { attendBlocks } from "./paged-attention.js";

/** Shape, dtype and byte budget of a `ContiguousKvCache`. */
export interface ContiguousCacheOptions {
  /** Decoder layers. */
  readonly layers: number;
  /** K/V heads. */
  readonly kvHeads: number;
  /** Head dimension. */
  readonly headDim: number;
  /** Storage dtype of K/V. */
  readonly dtype: KvDtypeExec;
  /** KV budget in bytes: reservations never exceed it. */
  readonly budgetBytes: number;
  /**
   * Sliding window: each sequence keeps only its last `window` positions, in a ring of
   * min(maxTokens, window) slots (a rolling buffer); positions stay absolute. Default: keep all.
   */
  readonly window?: number | undefined;
}

interface Reservation {
  store: KvStore;
  maxTokens: number;
  /** Token slots of `store`: maxTokens, or the ring min(maxTokens, window). Position p is in slot p mod slots. */
  slots: number;
  length: number;
  /** Positions appended per layer and not yet committed. */
  pending: Int32Array;
}

/**
 * Each sequence reserves K/V for its maximum length up front: the `Contiguous` kv-memory layout.
 */
export class ContiguousKvCache implements KvCache, SequenceCache {
  /** Layout name (`contiguous`) for messages and reports. */
  readonly kind = "contiguous";
  /** Decoder layers. */
  readonly layers: number;
  /** K/V heads. */
  readonly kvHeads: number;
  /** Head dimension. */
  readonly headDim: number;
  /** Device bytes per cached token (every layer, K and V, scales included). */
  readonly tokenBytes: number;
  /** The KV budget in tokens. */
  readonly capacityTokens: number;
  /** Whether `swapOut`/`swapIn` work (a host pool exists). */
  readonly canSwap = false;
  /** KV budget in bytes: reservations never exceed it. */
  readonly budgetBytes: number;
  /** Positions each sequence keeps (a rolling buffer), or undefined to keep all. */
  readonly window: number | undefined;
  readonly #dtype: KvDtypeExec;
  readonly #seqs = new Map<number, Reservation>();
  #reserved = 0;
  /** Lockstep sequences 0..batch-1 and their reservation (0 when used per sequence). */
  #batch = 0;
  #maxSeq = 0;

  constructor(o: ContiguousCacheOptions) {
    for (const [k, v] of Object.entries({ layers: o.layers, kvHeads: o.kvHeads, headDim: o.headDim })) {
      if (!(Number.isInteger(v) && v >= 1))
        throw new ValueError(`ContiguousKvCache: ${k} must be a positive integer, got ${v}`);
    }
    if (o.window !== undefined && !(Number.isInteger(o.window) && o.window >= 1))
      throw new ValueError(`ContiguousKvCache: window must be a positive integer, got ${o.window}`);
    this.layers = o.layers;
    this.kvHeads = o.kvHeads;
    this.headDim = o.headDim;
    this.window = o.window;
    this.#dtype = o.dtype;
    this.budgetBytes = o.budgetBytes;
    this.tokenBytes = blockBytes(o.layers, o.kvHeads, o.headDim, 1, o.dtype);
    this.capacityTokens = Math.floor(o.budgetBytes / this.tokenBytes);
  }

  /**
   * A lockstep cache for core's `KvCache` contract: `batch` sequences reserving `maxSeq` tokens each
   * (with `spec.window`, a ring of min(maxSeq, window)), up front.
   */
  static forBatch(spec: KvCacheSpec): ContiguousKvCache {
    for (const [k, v] of Object.entries({ batch: spec.batch, maxSeq: spec.maxSeq })) {
      if (!(Number.isInteger(v) && v >= 1))
        throw new ValueError(`ContiguousKvCache: ${k} must be a positive integer, got ${v}`);
    }
    const tokenBytes = blockBytes(spec.layers, spec.kvHeads, spec.headDim, 1, spec.dtype);
    const slots = Math.min(spec.maxSeq, spec.window ?? spec.maxSeq);
    const c = new ContiguousKvCache({ ...spec, budgetBytes: spec.batch * slots * tokenBytes });
    try {
      for (let b = 0; b < spec.batch; b++) c.addSequence(b, { maxTokens: spec.maxSeq });
    } catch (e) {
      c.dispose();
      throw e;
    }
    c.#batch = spec.batch;
    c.#maxSeq = spec.maxSeq;
    return c;
  }

  /** The serving cache of the `Contiguous` strategy: reservations inside `spec.budgetBytes` (no swap). */
  static forServing(spec: SequenceCacheSpec): ContiguousKvCache {
    return new ContiguousKvCache(spec);
  }

  // ---- core KvCache (lockstep) --------------------------------------------------------------

  /** The cache's shape (core's `KvCacheSpec`), for lockstep use as a `KvCache`. */
  get spec(): KvCacheSpec {
    return {
      batch: this.#batch,
      layers: this.layers,
      kvHeads: this.kvHeads,
      headDim: this.headDim,
      maxSeq: this.#batch ? this.#maxSeq : this.capacityTokens,
      dtype: this.#dtype,
      window: this.window,
    };
  }

  /** Tokens cached per sequence in lockstep use (sequence 0's length). */
  get length(): number {
    return this.#seqs.get(0)?.length ?? 0;
  }

  /** Bytes reserved in the ledger. */
  get bytes(): number {
    return this.#reserved;
  }

  /** k, v [B, Hkv, T, D] for the lockstep sequences 0..B-1. */
  append(layer: number, k: Tensor, v: Tensor): void {
    const B = this.#batch;
    const T = checkKvShape("ContiguousKvCache.append", k, v, B, this.kvHeads, this.headDim);
    const per = this.kvHeads * T * this.headDim;
    for (let b = 0; b < B; b++) {
      const [kb, vb] = [k.data.subarray(b * per, (b + 1) * per), v.data.subarray(b * per, (b + 1) * per)];
      this.#write(b, layer, kb, vb, T);
    }
  }

  /**
   * Gathers every lockstep sequence into f32 [B, Hkv, T, D] `tmp` tensors: all positions, or with a
   * window the last min(length, window) in order (appended positions included).
   */
  read(layer: number): { k: Tensor; v: Tensor } {
    const { kvHeads: H, headDim: D } = this;
    const B = this.#batch;
    const end = B ? this.#seq(0).length + this.#seq(0).pending[layer]! : 0;
    const T = B ? Math.min(end, this.#seq(0).slots) : 0;
    const first = end - T; // oldest position still held
    // In the backend's memory when it has one: the attention products read K/V there in place.
    const k = empty([B, H, T, D], { resident: true });
    const v = empty([B, H, T, D], { resident: true });
    for (let b = 0; b < B; b++) {
      const r = this.#seq(b);
      if (r.store.f32) {
        this.#readF32(r, r.store.f32, layer, first, T, k.data, v.data, b);
        continue;
      }
      for (let h = 0; h < H; h++)
        for (let i = 0; i < T; i++) {
          const dst = ((b * H + h) * T + i) * D;
          r.store.read(this.#index(r, layer, 0, h, first + i), k.data, dst);
          r.store.read(this.#index(r, layer, 1, h, first + i), v.data, dst);
        }
    }
    return { k, v };
  }

  /**
   * `layer`'s K/V in place for one lockstep sequence in an f32 store whose positions have not wrapped
   * a ring: views [1, Hkv, slots, D] of the reservation (a head's slots are consecutive vectors, heads
   * slots·D apart), of which the first `keys` positions are held. Undefined otherwise (`read` copies).
   */
  view(layer: number): { k: Tensor; v: Tensor; keys: number } | undefined {
    if (this.#batch !== 1) return undefined;
    const r = this.#seq(0);
    const storage = r.store.storage;
    const keys = r.length + r.pending[layer]!;
    if (!r.store.f32 || !storage || keys === 0 || keys > r.slots) return undefined;
    const { kvHeads: H, headDim: D } = this;
    const side = (kv: 0 | 1) =>
      new Tensor(storage.retain(), [1, H, r.slots, D], this.#index(r, layer, kv, 0, 0) * D);
    return { k: side(0), v: side(1), keys };
  }

  /** Lockstep use: mark `tokens` new positions of every sequence complete. */
  advance(tokens: number): void {
    for (let b = 0; b < this.#batch; b++) this.commit(b, tokens);
  }

  // ---- per-sequence API ---------------------------------------------------------------------

  /** Could a sequence join now, prefilling `promptTokens` and able to grow to `maxTokens`? */
  canAdmit(_promptTokens: number, maxTokens: number): boolean {
    return this.#reserved + this.#slotsFor(maxTokens) * this.tokenBytes <= this.budgetBytes;
  }

  /**
   * Token slots of device memory a sequence of `tokens` tokens, able to grow to `maxTokens`, holds.
   */
  footprintTokens(_tokens: number, maxTokens: number): number {
    return this.#slotsFor(maxTokens);
  }

  /** The whole reservation, for every step of the request's life. */
  meanHeldTokens(_promptTokens: number, _outputTokens: number, maxTokens: number): number {
    return this.#slotsFor(maxTokens);
  }

  /** Adds sequence `seqId`; returns how many leading prompt tokens were found cached. */
  addSequence(
    seqId: number,
    options: { readonly tokens?: readonly number[]; readonly maxTokens: number },
  ): number {
    if (this.#seqs.has(seqId))
      throw new ValueError(`ContiguousKvCache: sequence ${seqId} already exists; free it first`);
    this.#seqs.set(seqId, this.#reserve(options.maxTokens));
    return 0;
  }

  /** Makes room for `tokens` more positions of `seqId`; false if memory is short. */
  ensureCapacity(seqId: number, tokens: number): boolean {
    const r = this.#seq(seqId);
    return r.length + tokens <= r.maxTokens;
  }

  /** k, v [1, Hkv, T, D]. */
  appendTokens(seqId: number, layer: number, k: Tensor, v: Tensor): void {
    this.#seq(seqId);
    const T = checkKvShape("ContiguousKvCache.appendTokens", k, v, 1, this.kvHeads, this.headDim);
    this.#write(seqId, layer, k.data, v.data, T);
  }

  /** Marks the appended positions complete (every layer wrote them): their ids, or just a count. */
  commit(seqId: number, tokens: readonly number[] | number): void {
    const r = this.#seq(seqId);
    const n = typeof tokens === "number" ? tokens : tokens.length;
    if (r.pending.some((p) => p !== n)) {
      throw new ValueError(
        `ContiguousKvCache: commit(${n}) for sequence ${seqId} but layers appended [${r.pending}]; append every layer first`,
      );
    }
    r.length += n;
    r.pending.fill(0);
  }

  /**
   * Attention of q [1, H, Tq, D] over sequence `seqId`'s cached K/V for `layer`. Once a ring has
   * wrapped, every query's window must fit in it (older keys are gone).
   */
  attend(q: Tensor, seqId: number, layer: number, options: AttendOptions): Tensor {
    const r = this.#seq(seqId);
    const tk = r.length + r.pending[layer]!;
    checkRingWindow("ContiguousKvCache.attend", seqId, tk, r.slots, q.rank === 4 ? q.dim(2) : 1, options);
    // The ring as a block table: every block is the one store, so position p reads slot p mod slots.
    const stores = new Array<KvStore>(Math.max(1, Math.ceil(tk / r.slots))).fill(r.store);
    const view = { stores, block: r.slots, kvHeads: this.kvHeads, headDim: this.headDim };
    return attendBlocks(q, view, tk, layer, options);
  }

  /** Tokens cached for sequence `seqId`. */
  sequenceLength(seqId: number): number {
    return this.#seq(seqId).length;
  }

  /** `child` starts as a copy of `parent`; false if memory is short. */
  fork(parent: number, child: number): boolean {
    const p = this.#seq(parent);
    if (this.#seqs.has(child)) throw new ValueError(`ContiguousKvCache: sequence ${child} already exists`);
    if (this.#reserved + p.store.bytes > this.budgetBytes) return false;
    const c = this.#reserve(p.maxTokens);
    const tmp = new Float32Array(this.headDim); // one vector of scratch
    for (let l = 0; l < this.layers; l++)
      for (const kv of KV_SIDES)
        for (let h = 0; h < this.kvHeads; h++)
          for (let i = Math.max(0, p.length - p.slots); i < p.length; i++) {
            p.store.read(this.#index(p, l, kv, h, i), tmp, 0);
            c.store.write(this.#index(c, l, kv, h, i), tmp, 0);
          }
    c.length = p.length;
    this.#seqs.set(child, c);
    return true;
  }

  /** Releases sequence `seqId` and its K/V. */
  free(seqId: number): void {
    const r = this.#seq(seqId);
    this.#reserved -= r.store.bytes;
    r.store.dispose();
    this.#seqs.delete(seqId);
  }

  /** Always false: a contiguous cache has no host pool. */
  swapOut(): boolean {
    return false;
  }

  /** Always false: a contiguous cache has no host pool. */
  swapIn(): boolean {
    return true;
  }

  /** KV bytes reserved, used (real tokens), cached and on the host, and running sequences, now. */
  usage(): KvUsage {
    let used = 0;
    for (const r of this.#seqs.values()) used += Math.min(r.length, r.slots);
    return {
      reservedBytes: this.#reserved,
      usedBytes: used * this.tokenBytes,
      cachedBytes: 0,
      hostBytes: 0,
      sequences: this.#seqs.size,
    };
  }

  /** Frees all K/V storage. */
  dispose(): void {
    for (const id of [...this.#seqs.keys()]) this.free(id);
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Token slots a reservation for `maxTokens` holds: all of them, or the window's ring. */
  #slotsFor(maxTokens: number): number {
    return Math.min(maxTokens, this.window ?? maxTokens);
  }

  #reserve(maxTokens: number): Reservation {
    if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) {
      throw new ValueError(`ContiguousKvCache: maxTokens must be a positive integer, got ${maxTokens}`);
    }
    const slots = this.#slotsFor(maxTokens);
    const bytes = slots * this.tokenBytes;
    if (this.#reserved + bytes > this.budgetBytes) {
      throw new PoolExhaustedError({
        pool: "contiguous KV reservations",
        requested: 1,
        free: 0,
        capacity: Math.floor(this.budgetBytes / bytes),
        blockBytes: bytes,
      });
    }
    const store = this.#dtype.allocate(this.layers * 2 * this.kvHeads * slots, this.headDim, "kv");
    this.#reserved += store.bytes;
    return { store, maxTokens, slots, length: 0, pending: new Int32Array(this.layers) };
  }

  /**
   * k, v: [Hkv, T, D] flat for one sequence, written after its committed and pending positions (a
   * ring keeps the last `slots` of them: earlier ones would be overwritten in this same write).
   */
  #write(seqId: number, layer: number, k: Float32Array, v: Float32Array, T: number): void {
    if (!(Number.isInteger(layer) && layer >= 0 && layer < this.layers)) {
      throw new ValueError(`ContiguousKvCache: layer ${layer} is outside [0, ${this.layers})`);
    }
    const r = this.#seq(seqId);
    const start = r.length + r.pending[layer]!;
    if (start + T > r.maxTokens) {
      throw new ValueError(
        `ContiguousKvCache: sequence ${seqId} would hold ${start + T} tokens, beyond its reservation of ${r.maxTokens}; reserve a larger maxTokens (lockstep: a larger maxSeq)`,
      );
    }
    const { kvHeads: H, headDim: D } = this;
    for (let h = 0; h < H; h++)
      for (let i = Math.max(0, T - r.slots); i < T; i++) {
        const src = (h * T + i) * D;
        r.store.write(this.#index(r, layer, 0, h, start + i), k, src);
        r.store.write(this.#index(r, layer, 1, h, start + i), v, src);
      }
    r.pending[layer] = r.pending[layer]! + T;
  }

  /**
   * `read` for an f32 store: a head's slots are consecutive vectors, so positions first..first+T-1
   * copy as one run per head (two where the ring wraps) instead of one call per vector.
   */
  #readF32(
    r: Reservation,
    f32: Float32Array,
    layer: number,
    first: number,
    T: number,
    k: Float32Array,
    v: Float32Array,
    b: number,
  ): void {
    const { kvHeads: H, headDim: D } = this;
    const s0 = first % r.slots;
    const run = Math.min(T, r.slots - s0); // positions before the ring wraps to slot 0
    for (let h = 0; h < H; h++) {
      const dst = (b * H + h) * T * D;
      for (const kv of KV_SIDES) {
        const out = kv === 0 ? k : v;
        const base = this.#index(r, layer, kv, h, 0) * D;
        copyElements(out, dst, f32, base + s0 * D, run * D);
        if (run < T) copyElements(out, dst + run * D, f32, base, (T - run) * D);
      }
    }
  }

  /** Vector index of (layer, K/V, head) at absolute position `pos` (slot pos mod slots). */
  #index(r: Reservation, layer: number, kv: 0 | 1, h: number, pos: number): number {
    return blockVectorIndex(this.kvHeads, r.slots, layer, kv, h, pos % r.slots);
  }

  #seq(seqId: number): Reservation {
    const r = this.#seqs.get(seqId);
    if (!r) {
      throw new ValueError(
        `ContiguousKvCache: no sequence ${seqId}; known: [${[...this.#seqs.keys()].slice(0, 16)}]`,
        { seqId },
      );
    }
    return r;
  }
}
