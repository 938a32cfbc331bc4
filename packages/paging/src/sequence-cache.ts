/**
 * The per-sequence KV cache interface the scheduler and a `StepModel` use: sequences join, grow,
 * fork, leave, and (paged only) swap to a host pool. Implemented by `PagedKvCache` (blocks on
 * demand) and `ContiguousSequenceCache` (reserve the maximum length up front). The interface, plus
 * the shape check both use on appended K/V.
 */
import { type AttendOptions, ShapeError, type Tensor } from "@tradeoffs/core-tensor";

/** KV memory at one moment, in bytes. */
export interface KvUsage {
  /** Device bytes held for running sequences (blocks referenced, or reservations). */
  readonly reservedBytes: number;
  /** The part of `reservedBytes` holding real tokens (shared blocks counted once). */
  readonly usedBytes: number;
  /** Device bytes of idle prefix-cache blocks (reusable, evictable). */
  readonly cachedBytes: number;
  /** Host (swap) pool bytes held by swapped-out sequences. */
  readonly hostBytes: number;
  /** Sequences resident on the device. */
  readonly sequences: number;
}

export interface SequenceCache {
  readonly kind: "paged" | "contiguous";
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Device bytes per cached token (every layer, K and V, scales included). */
  readonly tokenBytes: number;
  /** The KV budget in tokens. */
  readonly capacityTokens: number;
  /** Whether `swapOut`/`swapIn` work (a host pool exists). */
  readonly canSwap: boolean;
  /** Could a sequence join now, prefilling `promptTokens` and able to grow to `maxTokens`? */
  canAdmit(promptTokens: number, maxTokens: number): boolean;
  /**
   * Token slots of device memory a sequence holds when it has `tokens` tokens and may grow to
   * `maxTokens` (paged: whole blocks; contiguous: the reservation). Used for the too-large check and
   * for internal fragmentation.
   */
  footprintTokens(tokens: number, maxTokens: number): number;
  /**
   * Add a sequence. `tokens`: its prompt, for prefix-cache lookup; returns how many leading tokens
   * were found cached (the model prefills from there).
   */
  addSequence(
    seqId: number,
    options: { readonly tokens?: readonly number[]; readonly maxTokens: number },
  ): number;
  /** Make room for `tokens` more positions (allocating, copying on write); false if memory is short. */
  ensureCapacity(seqId: number, tokens: number): boolean;
  /** Write K/V of new positions for one layer: k, v [1, Hkv, T, D] (f32). */
  appendTokens(seqId: number, layer: number, k: Tensor, v: Tensor): void;
  /** Mark the appended positions complete (every layer wrote them): their ids, or just a count. */
  commit(seqId: number, tokens: readonly number[] | number): void;
  /** Attention of q [1, H, Tq, D] over the sequence's cached K/V (appended positions included). */
  attend(q: Tensor, seqId: number, layer: number, options: AttendOptions): Tensor;
  sequenceLength(seqId: number): number;
  /** `child` starts as a copy of `parent` (shared blocks when paged); false if memory is short. */
  fork(parent: number, child: number): boolean;
  free(seqId: number): void;
  /** Move a sequence's K/V to the host pool, freeing its device memory; false if the host is full. */
  swapOut(seqId: number): boolean;
  /** Bring a swapped sequence back; false if the device is short. */
  swapIn(seqId: number): boolean;
  usage(): KvUsage;
  dispose(): void;
}

/** Throw a `ShapeError` from `op` unless k and v are both [batch, kvHeads, T, headDim]; returns T. */
export function checkKvShape(
  op: string,
  k: Tensor,
  v: Tensor,
  batch: number,
  kvHeads: number,
  headDim: number,
): number {
  const T = k.rank === 4 ? k.dim(2) : -1;
  const want = [batch, kvHeads, T, headDim].join();
  if (k.shape.join() !== want || v.shape.join() !== want) {
    throw new ShapeError(
      op,
      `k, v must be [${batch}, ${kvHeads}, T, ${headDim}]; got [${k.shape}] and [${v.shape}]`,
    );
  }
  return T;
}
