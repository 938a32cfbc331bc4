/**
 * `Ckpt[...]`: the checkpointing strategy. One factory, the policy chosen by a bare word or a key:
 * `Ckpt[sqrt]` (also plain `Ckpt`), `Ckpt[all]`, `Ckpt[every=2]`, `Ckpt[budget=64MiB]`. The exec and
 * `plan()` share one pure `segments(L, layerActBytes, layerInputBytes)`, so the estimator predicts
 * the schedule the model runs. It schedules; running the schedule is `run-segments.ts`.
 */
import { defineStrategy, type OptionsOf } from "@tradeoffs/core-tensor";
import { budgetSegments, CheckpointBudgetError } from "./budget.js";
import { allSegments, everySegments, sqrtSegments } from "./fixed-segments.js";
import { predictPeakAct, type Segments } from "./memory-model.js";

/** The option spec of `Ckpt` (policy, every, budget). */
export const ckptOptions = {
  policy: {
    type: "choice",
    default: "auto",
    choices: ["auto", "sqrt", "all", "every", "budget"],
    doc: "auto = every if every=k is set, budget if budget=bytes is set, else sqrt",
  },
  every: { type: "int", default: 0, min: 0, doc: "layers per segment (Ckpt[every=k]); 0 = unset" },
  budget: { type: "bytes", default: 0, doc: "peak activation budget (Ckpt[budget=64MiB]); 0 = unset" },
} as const;

/** Typed options of `Ckpt`. */
export type CkptOptions = OptionsOf<typeof ckptOptions>;

/** The concrete policy an option set means. */
export function ckptPolicy(o: CkptOptions): "sqrt" | "all" | "every" | "budget" {
  if (o.policy !== "auto") return o.policy as "sqrt" | "all" | "every" | "budget";
  if (o.every > 0) return "every";
  if (o.budget > 0) return "budget";
  return "sqrt";
}

/**
 * The `segments(L, layerActBytes, layerInputBytes, reserved)` of an option set, shared by `plan()` and
 * the exec. `reserved`: activation bytes held outside the layer stack (a model's embedding and head),
 * which a budget must leave room for; the budget's error then states the minimum for the whole model.
 */
function segmentsFor(o: CkptOptions) {
  return (layers: number, act: number, input: number, reserved = 0): Segments => {
    switch (ckptPolicy(o)) {
      case "all":
        return allSegments(layers);
      case "every":
        return everySegments(layers, o.every);
      case "budget":
        try {
          return budgetSegments(layers, act, input, o.budget - reserved);
        } catch (e) {
          if (!(e instanceof CheckpointBudgetError) || reserved === 0) throw e;
          throw new CheckpointBudgetError({
            budgetBytes: o.budget,
            minimumBytes: e.minimumBytes + reserved,
            layers,
          });
        }
      default:
        return sqrtSegments(layers);
    }
  };
}

function rules(o: CkptOptions): string[] {
  const problems: string[] = [];
  const policy = ckptPolicy(o);
  if (o.every > 0 && o.budget > 0) {
    problems.push(`Ckpt: set every=k or budget=bytes, not both (got every=${o.every}, budget=${o.budget})`);
  } else if (policy === "every" && o.every === 0) {
    problems.push("Ckpt[every] needs a segment length: Ckpt[every=k] with k ≥ 1, e.g. Ckpt[every=2]");
  } else if (policy === "budget" && o.budget === 0) {
    problems.push("Ckpt[budget] needs a byte budget > 0, e.g. Ckpt[budget=64MiB]");
  } else if ((policy === "sqrt" || policy === "all") && (o.every > 0 || o.budget > 0)) {
    problems.push(
      `Ckpt[${policy}] takes no every= or budget=; use Ckpt[every=k] or Ckpt[budget=bytes] instead`,
    );
  } else if (policy === "every" && o.budget > 0) {
    problems.push("Ckpt[every] takes no budget=; use Ckpt[budget=bytes] instead");
  } else if (policy === "budget" && o.every > 0) {
    problems.push("Ckpt[budget] takes no every=; use Ckpt[every=k] instead");
  }
  return problems;
}

/**
 * `Ckpt[every=k | budget=bytes | sqrt | all]`: gradient checkpointing; segments keep only their
 * input and recompute in backward.
 */
export const ckpt = defineStrategy({
  name: "Ckpt",
  slot: "checkpoint",
  description: "Gradient checkpointing: keep segment inputs, recompute each segment in backward",
  options: ckptOptions,
  positional: "policy",
  labelOptions: [],
  rules,
  plan: (p, o) => ({
    ...p,
    checkpoint: Object.freeze({
      segments: segmentsFor(o),
      peakAct: predictPeakAct,
      note: "act with checkpointing: predicted by the checkpoint memory model (over by at most one layer input)",
    }),
    notes: [
      ...p.notes,
      "checkpoint: peak act assumes a recomputed segment holds its input plus every layer's saved bytes (over by one layer input when a layer saves its own input)",
    ],
  }),
  exec: (o) => ({ segments: segmentsFor(o) }),
});
