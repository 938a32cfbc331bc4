/**
 * `ContiguousSequenceCache`: the pre-paging server policy under the scheduler. Each sequence reserves
 * K/V storage for its maximum length (`maxTokens`) when it is admitted, inside a KV byte budget; the
 * reservation is one block of `maxTokens` slots, so attention reads it with the same block kernel.
 */
import {
  type AttendOptions,
  type KvDtypeExec,
  type KvStore,
  type Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import { blockBytes, blockVectorIndex } from "./block-pool.js";
import { PoolExhaustedError } from "./errors.js";
import { attendBlocks } from "./paged-attention.js";
import { checkKvShape, type KvUsage, type SequenceCache } from "./sequence-cache.js";

export interface ContiguousCacheOptions {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly dtype: KvDtypeExec;
  /** KV budget in bytes: reservations never exceed it. */
  readonly budgetBytes: number;
}

interface Reservation {
  store: KvStore;
  maxTokens: number;
  length: number;
  pending: Int32Array;
}

export class ContiguousSequenceCache implements SequenceCache {
  readonly kind = "contiguous";
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly tokenBytes: number;
  readonly capacityTokens: number;
  readonly canSwap = false;
  readonly budgetBytes: number;
  readonly #dtype: KvDtypeExec;
  readonly #seqs = new Map<number, Reservation>();
  #reserved = 0;

  constructor(o: ContiguousCacheOptions) {
    for (const [k, v] of Object.entries({ layers: o.layers, kvHeads: o.kvHeads, headDim: o.headDim })) {
      if (!(Number.isInteger(v) && v >= 1))
        throw new ValueError(`ContiguousSequenceCache: ${k} must be a positive integer, got ${v}`);
    }
    this.layers = o.layers;
    this.kvHeads = o.kvHeads;
    this.headDim = o.headDim;
    this.#dtype = o.dtype;
    this.budgetBytes = o.budgetBytes;
    this.tokenBytes = blockBytes(o.layers, o.kvHeads, o.headDim, 1, o.dtype);
    this.capacityTokens = Math.floor(o.budgetBytes / this.tokenBytes);
  }

  canAdmit(_promptTokens: number, maxTokens: number): boolean {
    return this.#reserved + maxTokens * this.tokenBytes <= this.budgetBytes;
  }

  footprintTokens(_tokens: number, maxTokens: number): number {
    return maxTokens;
  }

  addSequence(
    seqId: number,
    options: { readonly tokens?: readonly number[]; readonly maxTokens: number },
  ): number {
    if (this.#seqs.has(seqId))
      throw new ValueError(`ContiguousSequenceCache: sequence ${seqId} already exists; free it first`);
    this.#seqs.set(seqId, this.#reserve(options.maxTokens));
    return 0;
  }

  ensureCapacity(seqId: number, tokens: number): boolean {
    const r = this.#seq(seqId);
    return r.length + tokens <= r.maxTokens;
  }

  appendTokens(seqId: number, layer: number, k: Tensor, v: Tensor): void {
    const r = this.#seq(seqId);
    const T = checkKvShape("ContiguousSequenceCache.appendTokens", k, v, 1, this.kvHeads, this.headDim);
    const start = r.length + r.pending[layer]!;
    if (start + T > r.maxTokens) {
      throw new ValueError(
        `ContiguousSequenceCache: sequence ${seqId} would hold ${start + T} tokens, beyond its reservation of ${r.maxTokens}; reserve a larger maxTokens`,
      );
    }
    const { kvHeads: H, headDim: D } = this;
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++) {
        const src = (h * T + i) * D;
        r.store.write(this.#index(r, layer, 0, h, start + i), k.data, src);
        r.store.write(this.#index(r, layer, 1, h, start + i), v.data, src);
      }
    r.pending[layer] = r.pending[layer]! + T;
  }

  commit(seqId: number, tokens: readonly number[] | number): void {
    const r = this.#seq(seqId);
    const n = typeof tokens === "number" ? tokens : tokens.length;
    if (r.pending.some((p) => p !== n)) {
      throw new ValueError(
        `ContiguousSequenceCache: commit(${n}) for sequence ${seqId} but layers appended [${r.pending}]`,
      );
    }
    r.length += n;
    r.pending.fill(0);
  }

  attend(q: Tensor, seqId: number, layer: number, options: AttendOptions): Tensor {
    const r = this.#seq(seqId);
    const view = { stores: [r.store], block: r.maxTokens, kvHeads: this.kvHeads, headDim: this.headDim };
    return attendBlocks(q, view, r.length + r.pending[layer]!, layer, options);
  }

  sequenceLength(seqId: number): number {
    return this.#seq(seqId).length;
  }

  fork(parent: number, child: number): boolean {
    const p = this.#seq(parent);
    if (this.#seqs.has(child))
      throw new ValueError(`ContiguousSequenceCache: sequence ${child} already exists`);
    if (this.#reserved + p.store.bytes > this.budgetBytes) return false;
    const c = this.#reserve(p.maxTokens);
    const tmp = new Float32Array(this.headDim); // one vector of scratch
    for (let l = 0; l < this.layers; l++)
      for (const kv of [0, 1] as const)
        for (let h = 0; h < this.kvHeads; h++)
          for (let i = 0; i < p.length; i++) {
            p.store.read(this.#index(p, l, kv, h, i), tmp, 0);
            c.store.write(this.#index(c, l, kv, h, i), tmp, 0);
          }
    c.length = p.length;
    this.#seqs.set(child, c);
    return true;
  }

  free(seqId: number): void {
    const r = this.#seq(seqId);
    this.#reserved -= r.store.bytes;
    r.store.dispose();
    this.#seqs.delete(seqId);
  }

  swapOut(): boolean {
    return false;
  }

  swapIn(): boolean {
    return true;
  }

  usage(): KvUsage {
    let used = 0;
    for (const r of this.#seqs.values()) used += r.length;
    return {
      reservedBytes: this.#reserved,
      usedBytes: used * this.tokenBytes,
      cachedBytes: 0,
      hostBytes: 0,
      sequences: this.#seqs.size,
    };
  }

  dispose(): void {
    for (const id of [...this.#seqs.keys()]) this.free(id);
  }

  #reserve(maxTokens: number): Reservation {
    if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) {
      throw new ValueError(`ContiguousSequenceCache: maxTokens must be a positive integer, got ${maxTokens}`);
    }
    const bytes = maxTokens * this.tokenBytes;
    if (this.#reserved + bytes > this.budgetBytes) {
      throw new PoolExhaustedError({
        pool: "contiguous KV reservations",
        requested: 1,
        free: 0,
        capacity: Math.floor(this.budgetBytes / bytes),
        blockBytes: bytes,
      });
    }
    const store = this.#dtype.allocate(this.layers * 2 * this.kvHeads * maxTokens, this.headDim, "kv");
    this.#reserved += store.bytes;
    return { store, maxTokens, length: 0, pending: new Int32Array(this.layers) };
  }

  #index(r: Reservation, layer: number, kv: 0 | 1, h: number, slot: number): number {
    return blockVectorIndex(this.kvHeads, r.maxTokens, layer, kv, h, slot);
  }

  #seq(seqId: number): Reservation {
    const r = this.#seqs.get(seqId);
    if (!r) throw new ValueError(`ContiguousSequenceCache: no sequence ${seqId}`, { seqId });
    return r;
  }
}
