/**
 * The serving half of the `kv-memory` slot's contract: a per-sequence KV store a continuous-batching
 * scheduler admits, grows, forks, preempts and frees sequences in, inside a KV byte budget. Interfaces
 * only; the layouts (reserve-max, block tables) and the scheduler live in the kv-memory package.
 */
import type { AttendOptions, KvDtypeExec } from "./strategy.js";
import type { Tensor } from "./tensor.js";

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

/** What a serving cache is built for: the model's K/V geometry and the KV budget. */
export interface SequenceCacheSpec {
  /** Decoder layers. */
  readonly layers: number;
  /** K/V heads per layer. */
  readonly kvHeads: number;
  /** Elements per head. */
  readonly headDim: number;
  /** How K/V elements are stored. */
  readonly dtype: KvDtypeExec;
  /** Device KV budget in bytes: what the cache holds never exceeds it. */
  readonly budgetBytes: number;
  /** Keep a host pool so preempted sequences can swap out (layouts that cannot swap ignore it). */
  readonly swap?: boolean | undefined;
  /** Sliding window: each sequence keeps only its last `window` positions (a rolling buffer). */
  readonly window?: number | undefined;
}

/** A per-sequence KV cache: sequences join, grow, fork, leave, and (where supported) swap to host. */
export interface SequenceCache {
  /** The layout's short name for messages and reports (`paged`, `contiguous`). */
  readonly kind: string;
  /** Decoder layers. */
  readonly layers: number;
  /** K/V heads per layer. */
  readonly kvHeads: number;
  /** Elements per head. */
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
   * Token slots a request holds on average over its `outputTokens` decode steps, from a prompt of
   * `promptTokens` and able to grow to `maxTokens`: an estimate before anything runs.
   */
  meanHeldTokens(promptTokens: number, outputTokens: number, maxTokens: number): number;
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
  /** Positions cached for the sequence so far. */
  sequenceLength(seqId: number): number;
  /** `child` starts as a copy of `parent` (shared blocks when paged); false if memory is short. */
  fork(parent: number, child: number): boolean;
  /** Removes the sequence and frees its memory (shared blocks stay while another sequence holds them). */
  free(seqId: number): void;
  /** Move a sequence's K/V to the host pool, freeing its device memory; false if the host is full. */
  swapOut(seqId: number): boolean;
  /** Bring a swapped sequence back; false if the device is short. */
  swapIn(seqId: number): boolean;
  /** Device and host bytes held now, and the sequences resident on the device. */
  usage(): KvUsage;
  /** Frees everything the cache holds. */
  dispose(): void;
}
