/**
 * The estimator's training part: `grad` and `optim` bytes for a training choice (optimizer state per
 * trainable shape, an f32 master copy of 16-bit parameters), and gradient accumulation (activations
 * and workspace of one micro-batch; FLOPs and bytes moved of all N). Not here: the rest of the
 * estimate (estimator.ts) or the choice's validation (training-choice.ts).
 */
import type { Plan } from "@tradeoffs/core-tensor";
import { trainableShapeGroups } from "./trainable-shapes.js";
import { checkTrainingChoice, type TrainingChoice, trainingOptimBytes } from "./training-choice.js";

/** The choice with the plan's defaults filled: published (16-bit) models train bf16 with a master copy. */
export function effectiveChoice(plan: Plan, choice: TrainingChoice = {}): TrainingChoice {
  const sixteen = plan.baseBytes === 2;
  const params = choice.params ?? (sixteen ? "bf16" : "fp32");
  return {
    ...choice,
    optimizer: choice.optimizer ?? { name: "adamw" },
    params,
    masterWeights: choice.masterWeights ?? (sixteen && params === "bf16"),
  };
}

/** `grad` and `optim` bytes of one training step, whether they are exact, and notes. */
export function trainingBytes(
  plan: Plan,
  trainable: number,
  choice: TrainingChoice = {},
): { grad: number; optim: number; exact: boolean; notes: string[] } {
  const c = effectiveChoice(plan, choice);
  checkTrainingChoice(c, plan.workload.batch);
  const notes: string[] = [];
  // Grouped by shape (one group per matrix role): every sum over shapes below is linear in them.
  const groups = trainableShapeGroups(plan);
  // A family whose extra pieces the shapes do not describe (yet): charge the rest as one vector, which
  // is exact for element-wise states (AdamW, SGD, Lion) and approximate for factored or blocked ones.
  const described = groups.reduce((s, g) => s + g.count * g.shape.reduce((a, b) => a * b, 1), 0);
  let exact = true;
  if (described !== trainable) {
    groups.push({ shape: [trainable - described], count: 1 });
    const name = c.optimizer!.name;
    if (name === "adafactor" || name === "adamw8bit") {
      exact = false;
      notes.push(
        `optim: ${Math.abs(trainable - described)} parameters of this architecture are charged as one vector (${name}'s state depends on shapes)`,
      );
    }
  }
  const optim = groups.reduce((s, g) => s + g.count * trainingOptimBytes(c, [g.shape]), 0);
  const grad = trainable * (plan.baseBytes === 2 ? 2 : 4);
  if (plan.baseBytes === 2)
    notes.push(
      `mixed precision: 16-bit grads; ${c.masterWeights ? "fp32 master weights (4 B/param) and " : ""}${c.optimizer!.name} states counted in optim`,
    );
  else if (c.params === "bf16")
    notes.push(
      `bf16 parameters: values rounded to bf16 after each update, held in f32 by the executable model (weights not halved)${c.masterWeights ? "; f32 master copy in optim" : ""}`,
    );
  return { grad, optim, exact, notes };
}

/** Micro-batches per step of a training choice (1 without accumulation). */
export function accumulationSteps(choice: TrainingChoice | undefined): number {
  return choice?.gradAccum ?? 1;
}
