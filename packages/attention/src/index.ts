/**
 * @tradeoffs/attention: the `attention` slot. `Standard` materialises the score matrix; it is the
 * oracle every other attention strategy is tested against.
 *
 * @packageDocumentation
 */
export { maskedSoftmax, visibleKeys } from "./masked-softmax.js";
export { attentionStrategies } from "./registry.js";
export { attentionDims, checkAttendOptions, standard, standardAttention } from "./standard.js";
