/**
 * @tradeoffs/attention: the `attention` slot. `Standard` materialises the score matrix; it is the
 * oracle every other attention strategy is tested against. `Flash` computes the same result in tiles
 * with an online softmax: O(n) temporaries and saved activations instead of O(n²).
 *
 * @packageDocumentation
 */
export {
  FLASH_DEFAULT_BLOCK,
  FLASH_FP32_TOL,
  FLASH_OPTIONS,
  type FlashOptions,
  flash,
  flashAttention,
  flashCost,
} from "./flash.js";
export {
  type FlashGeometry,
  flashBackwardKernel,
  flashForwardKernel,
  flashScratchLength,
} from "./flash-kernel.js";
export { maskedSoftmax, visibleKeys } from "./masked-softmax.js";
export { attentionStrategies } from "./registry.js";
export {
  attentionDims,
  checkAttendOptions,
  standard,
  standardAttention,
  standardCost,
} from "./standard.js";
export { WINDOW_OPTION, windowPlan, withWindow } from "./window.js";
