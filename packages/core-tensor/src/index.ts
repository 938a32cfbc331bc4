/**
 * @tradeoffs/core-tensor: tensors, dtypes, the memory ledger, kernels behind a `Backend`, reverse-mode
 * autograd with a checkpointing hook, a seeded RNG, npy/safetensors interop, and the Strategy contract.
 *
 * @packageDocumentation
 */
export {
  type BackwardOptions,
  backward,
  checkpoint,
  detach,
  enableGrad,
  type GradNode,
  grad,
  isGradEnabled,
  noGrad,
  record,
  releaseGraph,
} from "./autograd.js";
export {
  type AdamWArgs,
  type AttentionBackwardArgs,
  type AttentionKernelArgs,
  type Backend,
  type DequantMatmulArgs,
  type DequantTilesArgs,
  type DequantWeight,
  type DoubleQuantScales,
  getBackend,
  jsBackend,
  listBackends,
  type MaskedSoftmaxArgs,
  type MatmulArgs,
  type RmsNormBackwardArgs,
  registerBackend,
  type SampleArgs,
  setBackend,
  withBackend,
} from "./backend.js";
export {
  allocArray,
  bf16ToF32,
  type DType,
  type DTypeTraits,
  dtypeTraits,
  f16ToF32,
  f32ToBF16,
  f32ToF16,
  rowBytes,
  TENSOR_DTYPES,
  type TypedArray,
} from "./dtype.js";
export {
  ConfigError,
  closestMatch,
  DisposedError,
  DTypeError,
  FormatError,
  formatBytes,
  OutOfMemoryError,
  ShapeError,
  TradeoffsError,
  ValueError,
} from "./errors.js";
export {
  F32X8_BLOCK_ROWS,
  F32X8_SEGMENT,
  f32x8Floats,
  f32x8Index,
  gemvF32x8Js,
  packF32x8,
  unpackF32x8Rows,
} from "./f32x8.js";
export {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_NAME,
  type GgufFile,
  type GgufHeader,
  type GgufTensorInfo,
  ggufToF32,
  loadGguf,
  loadGgufHeader,
  parseGgufHeader,
  readGguf,
} from "./interop/gguf.js";
export {
  GGML_TYPES,
  GGUF_SUPPORTED_TYPES,
  GGUF_VALUE_TYPES,
  type GgmlType,
  type GgufScalar,
  type GgufScalarType,
  type GgufSupportedType,
  type GgufValue,
  type GgufValueTypeName,
  ggmlTypeById,
  ggmlTypeByName,
} from "./interop/gguf-types.js";
export {
  type GgufMetadataInput,
  type GgufTensorInput,
  ggufFromF32,
  saveGguf,
  writeGguf,
} from "./interop/gguf-write.js";
export { readNpy, writeNpy } from "./interop/npy.js";
export {
  loadSafetensors,
  readSafetensors,
  type SafetensorsFile,
  saveSafetensors,
  writeFileAtomic,
  writeSafetensors,
} from "./interop/safetensors.js";
export { js, jsCost } from "./js-backend.js";
export type { BinaryOp, ReduceOp, UnaryOp } from "./kernels/elementwise.js";
export { broadcastShapes } from "./kernels/elementwise.js";
export { matmulArgs, matmulBlocked, matmulNaive } from "./kernels/matmul.js";
export {
  CATEGORIES,
  type Category,
  type CategoryPath,
  type ExternalAllocation,
  getLedger,
  type LedgerDiff,
  type LedgerSnapshot,
  MemoryLedger,
  rootCategory,
  Storage,
  setLedger,
  withLedger,
} from "./ledger.js";
export { type AdamWHyper, adamwUpdate } from "./ops/adamw.js";
export { add, addScalar, div, mul, scale, sub } from "./ops/binary.js";
export { embedding, gatherRows, scatterAddRows } from "./ops/gather.js";
export { concat, narrow, reshape, slice, transpose } from "./ops/layout.js";
export { maskedFill } from "./ops/masked-fill.js";
export { type MatmulOptions, matmul } from "./ops/matmul.js";
export { layerNorm, rmsNorm } from "./ops/norm.js";
export { max, mean, sum } from "./ops/reduce.js";
export { rope } from "./ops/rope.js";
export { sampleTokens } from "./ops/sample.js";
export { argmax, topk } from "./ops/select.js";
export { siluMul } from "./ops/silu-mul.js";
export { type CrossEntropyOptions, crossEntropy, logSoftmax, softmax } from "./ops/softmax.js";
export { abs, exp, gelu, log, neg, relu, rsqrt, sigmoid, silu, sqrt, square, tanh } from "./ops/unary.js";
export {
  entryName,
  type NamedComposition,
  parseConfig,
  type Registry,
  type RegistryEntry,
  type RegistryFactory,
} from "./parse.js";
export type {
  ArchSpec,
  AttentionCost,
  AttentionShape,
  BackendCost,
  CheckpointCost,
  KvCost,
  MlaSpec,
  Plan,
  SegmentList,
  WeightsCost,
  WorkloadKind,
  WorkloadSpec,
} from "./plan.js";
export { Rng } from "./rng.js";
export type { KvUsage, SequenceCache, SequenceCacheSpec } from "./sequence-cache.js";
export {
  type AdaptersExec,
  type AttendOptions,
  type AttentionExec,
  type BackendExec,
  type CheckpointExec,
  type Composable,
  type CompositionRule,
  type Configuration,
  coerceOption,
  compose,
  compositionRules,
  defineStrategy,
  type FfnExec,
  type FfnModule,
  type FfnSpec,
  formatOption,
  type HeadsExec,
  type KvCache,
  type KvCacheSpec,
  type KvDtypeExec,
  type KvMemoryExec,
  type KvStore,
  type LinearWeight,
  type OptionSpec,
  type OptionsOf,
  type OptionsSpec,
  type OptionValue,
  parseBytes,
  type RuleContext,
  SLOTS,
  type Slot,
  type SlotExec,
  type Strategy,
  type StrategyDefinition,
  type StrategyFactory,
  type WeightsExec,
  withDefaults,
} from "./strategy.js";
export {
  alias,
  arange,
  castTo,
  clone,
  empty,
  full,
  keep,
  type NestedArray,
  ones,
  rand,
  randn,
  type Shape,
  scope,
  shapeSize,
  Tensor,
  type TensorOptions,
  tensor,
  toF32,
  zeros,
} from "./tensor.js";
export { type WasmAttentionOptions, wasmAttention } from "./wasm/attention.js";
export {
  type DequantFormat,
  dequantRowBytes,
  dequantRowNaive,
  NF4_TABLE,
  WASM_DEQUANT_SPLIT_MIN_WORK,
  wasmDequantRows,
  wasmMatmulDequant,
} from "./wasm/dequant.js";
export { DEQUANT_TILE_ELEMENTS, wasmMatmulDequantTiles } from "./wasm/dequant-gemm.js";
export { parseWasmFlavor, WASM_FLAVOR_ENV, WASM_FLAVORS, wasmFlavor } from "./wasm/flavor.js";
export { copyElements, FUSED_MIN_ELEMENTS, type FusedKernelName } from "./wasm/fused.js";
export { HEAP_ALIGN, WasmHeap } from "./wasm/heap.js";
export {
  type LoadWasmOptions,
  loadWasm,
  type WasmFlavor,
  wasmAvailable,
  wasmUnavailableReason,
} from "./wasm/loader.js";
export { GEMV_MAX_M, GEMV_SPLIT_MIN_WORK, WASM_SPLIT_MIN_WORK, wasmMatmul } from "./wasm/matmul.js";
export { allocateResident, ResidentStorage, withResidentWeights } from "./wasm/resident.js";
export {
  Arena,
  disposeWasm,
  KERNELS,
  type KernelName,
  setWasmFlavor,
  WasmRuntime,
  wasmRuntime,
} from "./wasm/runtime.js";
export type { WasmMemory, WasmModule } from "./wasm/wasm-api.js";
export { type WasmBackend, wasm, wasmBackend } from "./wasm/wasm-backend.js";
