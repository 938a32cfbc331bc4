/**
 * `Paged[block=16]`: K/V live in fixed-size blocks allocated as tokens arrive (vLLM's PagedAttention
 * layout). The strategy builds a lockstep `PagedKvCache` for a model and, for serving, one inside a
 * KV budget with prefix caching (and a host pool when swapping); the layout itself is `PagedKvCache`.
 */
import { defineStrategy, type KvCacheSpec, type SequenceCacheSpec } from "@tradeoffs/core-tensor";
import { PagedKvCache } from "./paged-cache.js";

/**
 * `Paged[block]`: K/V in fixed-size blocks allocated as tokens arrive, shared copy-on-write, with
 * prefix caching.
 */
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
    // decode gathers K/V block by block (no `view`)
    kv: { ...p.kv, reservedTokens: (t: number) => Math.ceil(t / o.block) * o.block, views: false },
  }),
  exec: (o) => ({
    createCache: (spec: KvCacheSpec) => PagedKvCache.forBatch(spec, o.block),
    createSequenceCache: (spec: SequenceCacheSpec) => PagedKvCache.forServing(spec, o.block),
  }),
});
