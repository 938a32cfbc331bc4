/**
 * @tradeoffs/quant: the `weights` slot (how linear-layer weights are stored and multiplied) and the
 * `adapters` slot (trainable low-rank adapters on frozen weights).
 *
 * @packageDocumentation
 */
export { Fp32Linear, fp32 } from "./fp32.js";
export { fp32x8, fp32x8Format } from "./fp32x8.js";
export { bf16, bf16Format, fp16, fp16Format } from "./half.js";
export { int4, int4Format } from "./int4.js";
export { int8, int8Format, NOMINAL_COLS } from "./int8.js";
export {
  ggufKernelWeight,
  type KernelWeight,
  nibbleKernelWeight,
  sixteenBitKernelWeight,
} from "./kernel-weight.js";
export {
  LlmInt8Linear,
  type LlmInt8Stats,
  type LlmInt8Totals,
  llmInt8,
  MODELLED_OUTLIERS_PER_4096,
  modelledOutlierColumns,
} from "./llm-int8.js";
export { LORA_TARGETS, LoraLinear, type LoraTargets, lora } from "./lora.js";
export { DQ_CHUNK, NF4_VALUES, nf4, nf4Bits, nf4Code, nf4Format } from "./nf4.js";
export { withPackCache } from "./pack-cache.js";
export {
  checkFinite,
  type FormatSpec,
  makeFormat,
  type PackedLayout,
  PackedWeight,
  type WeightFormat,
} from "./packed.js";
export {
  GEMV_MAX_ROWS,
  KERNEL_MAX_ROWS,
  PackedLinear,
  type PackedLinearOptions,
  packedWeights,
  TILE_ELEMENTS,
  tileRows,
} from "./packed-linear.js";
export { Q4_0_BLOCK_BYTES, QK4_0, q4_0, q4_0Format } from "./q4-0.js";
export { Q8_0_BLOCK_BYTES, QK8_0, q8_0, q8_0Format } from "./q8-0.js";
export { qlora } from "./qlora.js";
export { quantStrategies } from "./registry.js";
