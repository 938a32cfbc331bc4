/**
 * @tradeoffs/paging: the `kv-memory` slot — where K/V entries live. `Contiguous` reserves the
 * maximum length per sequence up front.
 *
 * @packageDocumentation
 */
export { ContiguousKvCache, contiguous } from "./contiguous.js";
export { pagingStrategies } from "./registry.js";
