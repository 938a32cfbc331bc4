/**
 * The multi-device planner: hardware presets, parallel layouts, per-device memory and time, vLLM-style
 * KV capacity, DeepSpeed's model-state estimators and the layout search. Re-exports by name.
 */
export {
  type ActivationOptions,
  edgeActivation,
  korthikantiLayerBytes,
  type LayerActivation,
  layerActivation,
  RECOMPUTES,
  type Recompute,
  stageActivationBytes,
} from "./activations.js";
export { type Collective, type CommItem, collectiveBytes, commItem, groupBandwidth } from "./comm.js";
export {
  type DeepSpeedEstimate,
  type DeepSpeedInput,
  deepspeedZero2,
  deepspeedZero3,
  largestLayerParams,
} from "./deepspeed.js";
export { resolveDevice } from "./device-file.js";
export {
  CONVENTIONS,
  type Convention,
  type DeepSpeedFigures,
  type EvalOptions,
  type Evaluation,
  evaluateLayout,
} from "./evaluate.js";
export {
  DEVICE_NAMES,
  DEVICES,
  type DeviceSpec,
  deviceFromJson,
  type Efficiency,
  getDevice,
  type Link,
  PRECISIONS,
  type Precision,
} from "./hardware.js";
export {
  checkLayout,
  inFlight,
  kvHeadsPerDevice,
  type Layout,
  layoutProblems,
  OFFLOADS,
  type Offload,
  PLAN_WORKLOADS,
  type PlanWorkload,
  stageLayers,
  ZERO_STAGES,
  type ZeroStage,
} from "./layout.js";
export {
  DEFAULT_COMM_BUFFER_BYTES,
  DEFAULT_FRAGMENTATION,
  type DeviceMemory,
  deviceMemory,
  type MemoryOptions,
  type Overhead,
  type OverheadOptions,
  type PlanWorkloadSpec,
} from "./memory.js";
export { type DeviceWeights, deviceWeights, type ModelFacts, modelFacts } from "./model-facts.js";
export {
  type ClusterPlan,
  largestFitting,
  type PlanCandidate,
  type PlanRequest,
  type PlanTraining,
  planCluster,
  smallestPlan,
} from "./plan.js";
export { enumerateLayouts, type SearchFixed, searchLayouts, smallestFit } from "./search.js";
export {
  type KvCapacity,
  type KvCapacityInput,
  kvCapacity,
  maxConcurrentSequences,
  type ServeCapacity,
  type ServeOptions,
  serveCapacity,
  VLLM_BLOCK,
  VLLM_UTILIZATION,
} from "./serving.js";
export {
  COLLECTIVE_LATENCY_MS,
  expectedExpertsRead,
  type PlanTime,
  planTime,
  type TimeOptions,
} from "./time.js";
