/**
 * What a training run chooses besides the model: the optimizer, bf16 parameters with or without an
 * f32 master copy, and gradient accumulation over N micro-batches. Validation that names every bad
 * value, the optimizer a run builds from the choice, and the `optim` bytes it holds (what the
 * estimator charges). Not here: the training loop (training.ts).
 */
import { ConfigError, type Tensor } from "@tradeoffs/core-tensor";
import { Bf16Params } from "./master-weights.js";
import type { Optimizer } from "./optimizer.js";
import { createOptimizer, OPTIMIZER_NAMES, type OptimizerChoice, optimizerStateBytes } from "./registry.js";

/** How trainable parameters can be held (`--params`). */
export const PARAM_DTYPES = ["fp32", "bf16"] as const;
/** How trainable parameters are held: f32, or bf16 values (with `masterWeights`, beside an f32 copy). */
export type ParamDtype = (typeof PARAM_DTYPES)[number];

/** How a model trains: optimizer, parameter dtype, f32 master weights and gradient accumulation. */
export interface TrainingChoice {
  /** Default `{ name: "adamw" }`. */
  readonly optimizer?: OptimizerChoice | undefined;
  /** Default `fp32`. */
  readonly params?: ParamDtype | undefined;
  /** Keep an f32 master copy of bf16 parameters under `optim` (needs `params: "bf16"`). */
  readonly masterWeights?: boolean | undefined;
  /** Micro-batches per optimizer step; gradients accumulate (default 1). */
  readonly gradAccum?: number | undefined;
}

/** Every problem with a training choice (and, given the batch, whether N micro-batches divide it). */
export function trainingChoiceProblems(choice: TrainingChoice, batch?: number): string[] {
  const p: string[] = [];
  const name = choice.optimizer?.name;
  if (name !== undefined && !(OPTIMIZER_NAMES as readonly string[]).includes(name))
    p.push(`optimizer '${String(name)}' is not one of ${OPTIMIZER_NAMES.join(", ")}`);
  if (choice.params !== undefined && !(PARAM_DTYPES as readonly string[]).includes(choice.params))
    p.push(`parameter dtype '${String(choice.params)}' is not one of ${PARAM_DTYPES.join(", ")}`);
  if (choice.masterWeights && choice.params !== "bf16")
    p.push(
      "master weights keep an f32 copy of bf16 parameters; they need params bf16 (f32 parameters are their own master)",
    );
  const n = choice.gradAccum;
  if (n !== undefined && !(Number.isSafeInteger(n) && n >= 1))
    p.push(`gradient accumulation must be a positive integer number of micro-batches, got ${String(n)}`);
  else if (n !== undefined && batch !== undefined && batch % n !== 0)
    p.push(`gradient accumulation ${n} must divide the batch ${batch} into equal micro-batches`);
  return p;
}

/** Throw one ConfigError listing every problem with the choice. */
export function checkTrainingChoice(choice: TrainingChoice, batch?: number): void {
  const problems = trainingChoiceProblems(choice, batch);
  if (problems.length > 0) throw new ConfigError(problems);
}

/** The optimizer a run with this choice uses over `params` (bf16 parameters wrap the update rule). */
export function createTrainingOptimizer(params: readonly Tensor[], choice: TrainingChoice = {}): Optimizer {
  checkTrainingChoice(choice);
  const optimizer = choice.optimizer ?? { name: "adamw" };
  if (choice.params !== "bf16") return createOptimizer(params, optimizer);
  return new Bf16Params(
    params,
    (targets) => createOptimizer(targets, optimizer),
    choice.masterWeights === true,
  );
}

/** `optim` bytes of a run with this choice over trainable tensors of these shapes: states + master copy. */
export function trainingOptimBytes(choice: TrainingChoice, shapes: readonly (readonly number[])[]): number {
  const state = optimizerStateBytes(choice.optimizer ?? { name: "adamw" }, shapes);
  const master = choice.masterWeights ? 4 * shapes.reduce((s, x) => s + x.reduce((a, b) => a * b, 1), 0) : 0;
  return state + master;
}
