/**
 * @tradeoffs/kv-cache: the `heads` slot (how many K/V heads) and the `kv-dtype` slot (how cached
 * K/V vectors are stored).
 *
 * @packageDocumentation
 */
export { f32Store, kvDtype } from "./kv-dtype.js";
export { mha } from "./mha.js";
export { kvCacheStrategies } from "./registry.js";
