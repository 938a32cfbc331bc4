/**
 * @tradeoffs/checkpoint: the `checkpoint` slot — which layers keep their activations for backward
 * and which recompute them: `None`, `Ckpt[every=k]`, `Ckpt[sqrt]`, `Ckpt[all]`, `Ckpt[budget=bytes]`,
 * their shared memory model, a runner over core's `checkpoint()`, and a schedule explorer.
 *
 * @packageDocumentation
 */
export { budgetSegments, CheckpointBudgetError, minimumBudget } from "./budget.js";
export { type CkptOptions, ckpt, ckptOptions, ckptPolicy } from "./ckpt.js";
export {
  describeSegments,
  type ExploreOptions,
  exploreSchedules,
  formatScheduleTable,
  type ScheduleRow,
} from "./explorer.js";
export { allSegments, everySegments, sqrtEvery, sqrtSegments } from "./fixed-segments.js";
export {
  type LayerBytes,
  layerBytes,
  predictPeakAct,
  recomputedLayers,
  recomputeFactor,
  type ScheduleItem,
  type Segments,
  scheduleItems,
} from "./memory-model.js";
export { none, noneCost } from "./none.js";
export { checkpointStrategies } from "./registry.js";
export { type Layer, runSegments } from "./run-segments.js";
