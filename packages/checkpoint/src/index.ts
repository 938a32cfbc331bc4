/**
 * @tradeoffs/checkpoint: the `checkpoint` slot — which layers keep their activations for backward
 * and which recompute them.
 *
 * @packageDocumentation
 */
export { none } from "./none.js";
export { checkpointStrategies } from "./registry.js";
