/**
 * @tradeoffs/model: a Llama-style transformer assembled from strategies, presets (executable and
 * published), the analytic estimator, and the workloads that measure a configuration.
 *
 * @packageDocumentation
 */

// The core-tensor pieces an application needs (configurations, categories, errors, byte sizes,
// backends), so that an app such as the compare CLI can depend on @tradeoffs/model alone.
export {
  type ArchSpec,
  CATEGORIES,
  type Category,
  ConfigError,
  type Configuration,
  closestMatch,
  disposeWasm,
  entryName,
  FormatError,
  formatBytes,
  parseBytes,
  setBackend,
  setWasmFlavor,
  TradeoffsError,
  ValueError,
  WASM_FLAVORS,
  type WasmFlavor,
  type WorkloadSpec,
  wasmAvailable,
  wasmFlavor,
  wasmUnavailableReason,
  writeFileAtomic,
} from "@tradeoffs/core-tensor";
// Packed bytes reused across the builds of a run (the compare app builds a model per timed run).
export { withPackCache } from "@tradeoffs/quant";
export {
  type ChosenWeights,
  checkpointLedger,
  type HeadsWeights,
  hasSmallWeights,
  hasUptrainedWeights,
  loadSmallWeights,
  loadUptrainedWeights,
  type SmallMeta,
  shippedWeightsFor,
  smallMeta,
  UPTRAINED_LAYOUTS,
  type UptrainMeta,
  uptrainedMeta,
} from "./checkpoint-file.js";
export { checkClaims } from "./claims/check.js";
export { type ModelTable, modelTables } from "./claims/tables.js";
export type { ClaimResult, ClaimsOptions, Verdict } from "./claims/verdict.js";
export { type Corpus, corpusFor, detokenizeBrown, loadCorpus, unigramLoss } from "./corpus.js";
export {
  ARCH_LIMITS,
  archProblems,
  checkEstimateInput,
  MAX_WORKLOAD_TOKENS,
  workloadProblems,
} from "./estimate-input.js";
export {
  countParams,
  type Estimate,
  type EstimateOptions,
  estimate,
  estimatePlan,
  type ParamCounts,
} from "./estimator.js";
export { formatCount, formatPercent } from "./format.js";
export {
  exportGguf,
  type GgufExportOptions,
  type GgufExportResult,
  ggufBytes,
  ggufContents,
} from "./gguf/export.js";
export {
  archFromGguf,
  type GgufLoadOptions,
  type GgufModelInfo,
  ggufModelInfo,
  ggufWeights,
  loadGgufModel,
} from "./gguf/import.js";
export { GGUF_WEIGHT_FORMATS, type GgufWeightFormat, permuteRopeRows } from "./gguf/llama-layout.js";
export {
  archFromHfConfig,
  HF_FAMILIES,
  type HfFamily,
  type HfModel,
  hfModelFromConfig,
  loadHfConfig,
  readHfConfig,
} from "./hf-config.js";
export { clearInitialWeights, initialWeights, initLedger } from "./init-weights.js";
export { type KvGroup, kvCacheHeads, kvGroups } from "./kv-layout.js";
export {
  cacheGathered,
  ffnActElements,
  headActBytes,
  type LiveSet,
  layerActElements,
  layerLiveSets,
  layerSaved,
  layerTmpElements,
  linearsTrainable,
  type TensorSize,
  totalElements,
} from "./layer-tensors.js";
export { Adafactor, type AdafactorOptions, factoredShape } from "./optim/adafactor.js";
export { AdamW, type AdamWOptions } from "./optim/adamw.js";
export { AdamW8bit, type AdamW8bitOptions } from "./optim/adamw8bit.js";
export {
  BLOCK_8BIT,
  Blockwise8bit,
  blockwise8bitBytes,
  MIN_8BIT_SIZE,
  QUANT_MAPS,
  type QuantMap,
  quantCodes,
} from "./optim/blockwise-8bit.js";
export { Lion, type LionOptions } from "./optim/lion.js";
export { Bf16Params, roundToBf16 } from "./optim/master-weights.js";
export type { CommonOptimizerOptions, Optimizer } from "./optim/optimizer.js";
export {
  createOptimizer,
  OPTIMIZER_NAMES,
  OPTIMIZERS,
  type OptimizerChoice,
  type OptimizerEntry,
  type OptimizerName,
  optimizerStateBytes,
  parseOptimizerName,
} from "./optim/registry.js";
export { Sgd, type SgdOptions } from "./optim/sgd.js";
export { trainableShapes } from "./optim/trainable-shapes.js";
export {
  checkTrainingChoice,
  createTrainingOptimizer,
  PARAM_DTYPES,
  type ParamDtype,
  type TrainingChoice,
  trainingChoiceProblems,
  trainingOptimBytes,
} from "./optim/training-choice.js";
export { type LinearMatrix, modelLinears } from "./params.js";
export { basePlan, type PlanOptions } from "./plan.js";
export {
  DEEPSPEED_OFFLOAD_DEVICES,
  DEEPSPEED_ZERO_STAGES,
  type EngineExport,
  EXPORT_ENGINE_NAMES,
  EXPORT_ENGINES,
  type ExportEngine,
  type ExportFile,
  type ExportOptions,
  exportDeepSpeed,
  exportHf,
  exportLlamaCpp,
  exportPlan,
  exportText,
  exportVllm,
  HF_LORA_MODULES,
  HF_OPTIMIZERS,
  LLAMACPP_CACHE_TYPES,
  type LlamaCppExportOptions,
  type Mapped,
  type Unsupported,
  VLLM_BLOCK_SIZES,
  VLLM_DTYPES,
  VLLM_KV_CACHE_DTYPES,
  VLLM_LORA_RANKS,
  type VllmExportOptions,
} from "./planner/export/index.js";
export {
  type ActivationOptions,
  type ClusterPlan,
  CONVENTIONS,
  type Collective,
  type CommItem,
  type Convention,
  checkLayout,
  DEVICE_NAMES,
  DEVICES,
  type DeepSpeedEstimate,
  type DeepSpeedFigures,
  type DeepSpeedInput,
  type DeviceSpec,
  deepspeedZero2,
  deepspeedZero3,
  deviceFromJson,
  type Efficiency,
  expectedExpertsRead,
  getDevice,
  type KvCapacity,
  type KvCapacityInput,
  korthikantiLayerBytes,
  kvCapacity,
  type LayerActivation,
  type Layout,
  type Link,
  largestLayerParams,
  layerActivation,
  layoutProblems,
  maxConcurrentSequences,
  OFFLOADS,
  type Offload,
  type OverheadOptions,
  PLAN_WORKLOADS,
  type PlanCandidate,
  type PlanRequest,
  type PlanTraining,
  type PlanWorkload,
  type PlanWorkloadSpec,
  PRECISIONS,
  type Precision,
  planCluster,
  RECOMPUTES,
  type Recompute,
  resolveDevice,
  smallestPlan,
  ZERO_STAGES,
  type ZeroStage,
} from "./planner/index.js";
export {
  getPreset,
  PRESET_NAMES,
  type Preset,
  type PresetName,
  PUBLISHED_ACTIVE,
  presets,
} from "./presets.js";
export {
  activeBackend,
  baselineComposition,
  baselines,
  DEFAULT_SUITE,
  filled,
  MEDIUM_SUITE,
  parse,
  registry,
  useFastestBackend,
} from "./registry.js";
export { type ResolvedModel, resolveModel } from "./resolve-model.js";
export {
  calibrateLocal,
  getHardware,
  HARDWARE,
  type Hardware,
  type PhaseTime,
  type Projection,
  project,
} from "./roofline.js";
export { byteTokenizer } from "./tokenizer.js";
export {
  type Batch,
  evaluate,
  fixedBatches,
  sampleBatch,
  sampleMicroBatches,
  type TrainOptions,
  train,
  trainStep,
} from "./training.js";
export {
  convertKvHeads,
  Transformer,
  type TransformerOptions,
  type WeightMap,
  weightName,
} from "./transformer.js";
export { type Measured, measured, median, type RunSpec } from "./workloads/common.js";
export { type InferOptions, type InferResult, prompts, runInfer } from "./workloads/infer.js";
export { BUSY_CORES, loadText, type MachineLoad, startLoadProbe } from "./workloads/machine-load.js";
export { type QualityOptions, type QualityResult, runQuality } from "./workloads/quality.js";
export {
  type InferSamples,
  interleaved,
  isUnstable,
  mergeInfer,
  mergeTrain,
  type Spread,
  spreadOf,
  type TrainSamples,
  UNSTABLE_SPREAD,
} from "./workloads/repeat.js";
export {
  modelStepCost,
  NOMINAL_CPU,
  runServe,
  type ServeOptions,
  type ServeResult,
  SMALL_TRACE,
  transformerStepModel,
} from "./workloads/serve.js";
export { runTrain, type TrainResult, type TrainWorkloadOptions } from "./workloads/train.js";
