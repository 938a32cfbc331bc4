/**
 * @tradeoffs/kv-cache: the `heads` slot (how many K/V heads: `MHA`, `GQA[kvHeads]`, `MQA`), the
 * `kv-dtype` slot (how cached K/V vectors are stored: `KV[fp32|fp16|int8]`) and the MHA → GQA
 * mean-pool conversion of K/V projection weights.
 *
 * @packageDocumentation
 */
export { type MeanPoolOptions, meanPoolKvHeads, poolKvTo } from "./convert-heads.js";
export { F16_MAX, f16Store } from "./f16-store.js";
export { f32Store } from "./f32-store.js";
export { gqa } from "./gqa.js";
export { kvHeadsProblems, validKvHeads } from "./heads-rules.js";
export { INT8_QMAX, int8Store, quantizeAbsmaxInt8 } from "./int8-store.js";
export { KV_DTYPE_NAMES, KV_DTYPES, type KvDtypeName, kvBytesPerToken, kvDtype } from "./kv-dtype.js";
export { mha } from "./mha.js";
export { mqa } from "./mqa.js";
export { kvCacheStrategies } from "./registry.js";
