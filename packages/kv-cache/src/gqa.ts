/**
 * `GQA[kvHeads=k]`: grouped-query attention (Ainslie et al. 2023): `k` K/V heads, each shared by a
 * group of heads/k consecutive query heads, so K/V projections and the KV cache shrink by heads/k.
 * Default kvHeads = 2. Attention handles the groups itself (no repeated K/V copies); this is the layout.
 */
import { defineStrategy, ValueError } from "@tradeoffs/core-tensor";
import { poolKvTo } from "./convert-heads.js";
import { kvHeadsProblems } from "./heads-rules.js";

/** The divisibility rule, reported under this strategy's label. */
const gqaProblems = (kvHeads: number, heads?: number) =>
  kvHeadsProblems(`GQA[kvHeads=${kvHeads}]`, kvHeads, heads);

/**
 * `gqa({ kvHeads })` → `GQA[kvHeads=k]` (slot `heads`; default kvHeads 2). `check({ arch })` reports a
 * kvHeads that does not divide `arch.heads`, listing the divisors.
 */
export const gqa = defineStrategy({
  name: "GQA",
  slot: "heads",
  description: "Grouped-query attention: kvHeads K/V heads, each shared by heads/kvHeads query heads",
  options: {
    // No `min` here: the rule below reports ≤ 0 together with the valid divisors.
    kvHeads: { type: "int", default: 2, doc: "K/V heads; must divide the query heads (default 2)" },
  },
  plan: (p, o) => {
    const problems = gqaProblems(o.kvHeads, p.arch.heads);
    return {
      ...p,
      arch: { ...p.arch, kvHeads: o.kvHeads },
      notes: problems.length ? [...p.notes, ...problems] : p.notes,
    };
  },
  exec: (o) => ({
    convertKv: poolKvTo((heads: number) => {
      const problems = gqaProblems(o.kvHeads, heads);
      if (problems.length) throw new ValueError(problems[0]!, { heads, kvHeads: o.kvHeads });
      return o.kvHeads;
    }),
  }),
  rules: (o, ctx) => gqaProblems(o.kvHeads, ctx.arch?.heads),
});
