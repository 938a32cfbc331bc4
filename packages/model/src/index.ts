/**
 * @tradeoffs/model: a Llama-style transformer assembled from strategies, presets (executable and
 * published), the analytic estimator, and the workloads that measure a configuration.
 *
 * @packageDocumentation
 */
export {
  countParams,
  estimate,
  estimatePlan,
  ffnActElements,
  layerActElements,
  layerTmpElements,
  type Estimate,
  type EstimateOptions,
  type ParamCounts,
} from "./estimator.js";
export { basePlan, type PlanOptions } from "./plan.js";
export { PRESET_NAMES, PUBLISHED_ACTIVE, getPreset, presets, type Preset, type PresetName } from "./presets.js";
export { baselineComposition, baselines, filled, parse, registry } from "./registry.js";
export { Transformer, convertKvHeads, weightName, type TransformerOptions, type WeightMap } from "./transformer.js";
export { checkpointLedger, hasSmallWeights, loadSmallWeights, smallMeta, type SmallMeta } from "./checkpoint-file.js";
export { byteTokenizer } from "./tokenizer.js";
export { detokenizeBrown, loadCorpus, unigramLoss, type Corpus } from "./corpus.js";
export { AdamW, type AdamWOptions } from "./optimizer.js";
export { evaluate, fixedBatches, sampleBatch, train, type TrainOptions } from "./training.js";
export { measured, median, type Measured, type RunSpec } from "./workloads/common.js";
export { prompts, runInfer, type InferOptions, type InferResult } from "./workloads/infer.js";
export { runQuality, type QualityOptions, type QualityResult } from "./workloads/quality.js";
export { runTrain, type TrainResult, type TrainWorkloadOptions } from "./workloads/train.js";
