/**
 * `Paged[block=16]`: K/V live in fixed-size blocks allocated as tokens arrive (vLLM's PagedAttention
 * layout). As a model's `kv-memory` slot it builds a lockstep `PagedKvCache`; the serving path uses
 * `PagedKvCache` directly with a KV budget, prefix caching and the scheduler.
 */
import { defineStrategy, type KvCacheSpec } from "@tradeoffs/core-tensor";
import { PagedKvCache } from "./paged-cache.js";

export const paged = defineStrategy({
  name: "Paged",
  slot: "kv-memory",
  description: "K/V in fixed-size blocks allocated on demand through per-sequence block tables",
  options: {
    block: { type: "int", default: 16, min: 1, max: 4096, doc: "tokens per KV block" },
  },
  // Blocks are whole: a sequence of t tokens holds ⌈t / block⌉ blocks.
  plan: (p, o) => ({
    ...p,
    kv: { ...p.kv, reservedTokens: (t: number) => Math.ceil(t / o.block) * o.block },
  }),
  exec: (o) => ({ createCache: (spec: KvCacheSpec) => PagedKvCache.forBatch(spec, o.block) }),
});
