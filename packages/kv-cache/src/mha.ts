/**
 * `MHA`: one K/V head per query head (the baseline head layout).
 */
import { defineStrategy } from "@tradeoffs/core-tensor";
import { poolKvTo } from "./convert-heads.js";

/** `mha()` → `MHA` (slot `heads`, the baseline): kvHeads = heads. */
export const mha = defineStrategy({
  name: "MHA",
  slot: "heads",
  description: "Multi-head attention: as many K/V heads as query heads",
  options: {},
  plan: (p) => ({ ...p, arch: { ...p.arch, kvHeads: p.arch.heads } }),
  exec: () => ({ convertKv: poolKvTo((heads) => heads) }),
});
