/**
 * `MQA`: multi-query attention (Shazeer 2019): one K/V head shared by every query head, the smallest
 * KV cache (heads× below MHA). Equivalent to `GQA[kvHeads=1]`; the layout only, not the attention.
 */
import { defineStrategy } from "@tradeoffs/core-tensor";
import { poolKvTo } from "./convert-heads.js";

/** `mqa()` → `MQA` (slot `heads`): one K/V head for any number of query heads. */
export const mqa = defineStrategy({
  name: "MQA",
  slot: "heads",
  description: "Multi-query attention: one K/V head shared by all query heads",
  options: {},
  plan: (p) => ({ ...p, arch: { ...p.arch, kvHeads: 1 } }),
  exec: () => ({ convertKv: poolKvTo(() => 1) }),
});
