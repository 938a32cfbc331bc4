/**
 * `None`: keep every activation autograd wants (no recomputation). The oracle for checkpointing.
 */
import { defineStrategy } from "@tradeoffs/core-tensor";

export const none = defineStrategy({
  name: "None",
  slot: "checkpoint",
  description: "No checkpointing: every activation is kept for backward",
  options: {},
  plan: (p) => ({ ...p, checkpoint: { kind: "none", every: 1, budgetBytes: 0, segments: undefined } }),
  exec: () => ({ segments: () => [] }),
});
