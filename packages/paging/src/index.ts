/**
 * @tradeoffs/paging: the `kv-memory` slot — where K/V entries live. `Contiguous` reserves the
 * maximum length per sequence up front; `Paged[block]` allocates fixed-size blocks on demand
 * (copy-on-write, prefix caching, swap), read by `pagedAttention`. Also the continuous-batching
 * scheduler and the `serve` workload core (synthetic trace, metrics). The serving caches come from
 * each strategy's `exec.createSequenceCache`; test fixtures live in `@tradeoffs/paging/testing`.
 *
 * @packageDocumentation
 */

export type { KvUsage, SequenceCache, SequenceCacheSpec } from "@tradeoffs/core-tensor";
export {
  BlockPool,
  type BlockPoolOptions,
  blockBytes,
  blockKey,
  type PrefixCacheStats,
} from "./block-pool.js";
export { contiguous } from "./contiguous.js";
export { type ContiguousCacheOptions, ContiguousKvCache } from "./contiguous-cache.js";
export { PoolExhaustedError, RequestTooLargeError } from "./errors.js";
export { paged } from "./paged.js";
export { attendBlocks, type BlockView, type PagedSource, pagedAttention } from "./paged-attention.js";
export { type PagedCacheOptions, PagedKvCache } from "./paged-cache.js";
export { pagingStrategies } from "./registry.js";
export {
  type RequestResult,
  type ScheduleResult,
  type SchedulerOptions,
  type ServeRequest,
  type StepClock,
  type StepModel,
  type StepRecord,
  type StepWork,
  sampleToken,
  schedule,
} from "./scheduler.js";
export {
  DEFAULT_OUTPUT,
  DEFAULT_PROMPT,
  DEFAULT_STEP_COST,
  type LengthDistribution,
  type Percentiles,
  percentiles,
  type ServeMetrics,
  type StepCost,
  serve,
  serveMetrics,
  simulatedClock,
  syntheticTrace,
  type TraceOptions,
  wallClock,
} from "./serve.js";
