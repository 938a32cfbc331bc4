/**
 * `Contiguous`: the kv-memory baseline strategy. Each sequence reserves K/V storage for its maximum
 * length up front, as servers did before paging; the layout itself is `ContiguousKvCache`.
 */
import { defineStrategy, type KvCacheSpec, type SequenceCacheSpec } from "@tradeoffs/core-tensor";
import { ContiguousKvCache } from "./contiguous-cache.js";

/**
 * `Contiguous`: each sequence reserves its maximum length of K/V up front; the pre-paging baseline.
 */
export const contiguous = defineStrategy({
  name: "Contiguous",
  slot: "kv-memory",
  description: "Reserve K/V storage for the maximum length of every sequence up front",
  options: {},
  // Reserve-max: a sequence holds every token it will reach (prompt + generate) from the start.
  // One sequence's K/V are lent in place to attention (`ContiguousKvCache.view`).
  plan: (p) => ({ ...p, kv: { ...p.kv, reservedTokens: (t: number) => t, views: true } }),
  exec: () => ({
    createCache: (spec: KvCacheSpec) => ContiguousKvCache.forBatch(spec),
    createSequenceCache: (spec: SequenceCacheSpec) => ContiguousKvCache.forServing(spec),
  }),
});
