/**
 * `None`: keep every activation autograd wants (no recomputation). The oracle for checkpointing.
 */
import { type CheckpointCost, defineStrategy } from "@tradeoffs/core-tensor";
import { predictPeakAct } from "./memory-model.js";

/** No segments: every layer keeps its activations (`peakAct` of no segments is all of them). */
export const noneCost: CheckpointCost = Object.freeze({ segments: () => [], peakAct: predictPeakAct });

/**
 * `None`: no checkpointing, every activation is kept; the baseline (and gradient oracle) for
 * `Ckpt`.
 */
export const none = defineStrategy({
  name: "None",
  slot: "checkpoint",
  description: "No checkpointing: every activation is kept for backward",
  options: {},
  plan: (p) => ({ ...p, checkpoint: noneCost }),
  exec: () => ({ segments: () => [] }),
});
