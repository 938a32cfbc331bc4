/**
 * The sliding-window option every attention strategy takes (`Standard[window=4096]`,
 * `Flash[block=64,window=4096]`): its spec and what it does to a plan. Not here: the mask rule
 * (masked-softmax.ts) or the rolling-buffer KV cache that makes memory stop growing (@tradeoffs/paging).
 */
import type { AttendOptions, OptionSpec, Plan } from "@tradeoffs/core-tensor";

/**
 * `window=N`: each query attends to the last N keys, itself included (AttendOptions' mask rule), so a
 * cache of N positions suffices: Mistral 7B's rolling buffer stores position i at slot i mod W (Jiang
 * et al. 2023, §2). 0, the default, keeps the model's own span: full attention, or the preset's window.
 */
export const WINDOW_OPTION = {
  type: "int",
  default: 0,
  min: 0,
  doc: "sliding window in keys per query (0 = the model's own: full, or the preset's window)",
} as const satisfies OptionSpec;

/**
 * The plan with the attention span set: `arch.window` becomes `window` when it is not 0. The model
 * masks attention with it and keeps a rolling-buffer KV cache of that many positions; the estimator
 * holds that many tokens of KV per sequence.
 */
export function windowPlan(p: Plan, window: number): Plan {
  if (window === 0) return p;
  return { ...p, arch: { ...p.arch, window } };
}

/**
 * The options of one attention call with the strategy's window applied: a call that sets its own
 * `window` keeps it (the model passes `arch.window`, which `windowPlan` set); otherwise `window`
 * when it is not 0. Lets `standard({ window: 8 }).exec.attend(q, k, v, { causal: true })` mask.
 */
export function withWindow(options: AttendOptions, window: number): AttendOptions {
  return window === 0 || options.window !== undefined ? options : { ...options, window };
}
