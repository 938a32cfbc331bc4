/**
 * Size first (llm.c): the shapes of the tensors that receive gradients under a plan, as the
 * executable model allocates them (embedding, norms, linears and their biases, routers, head; LoRA's
 * A and B alone with adapters), from the same matrix list as the parameter counts (params.ts).
 * Shape-dependent optimizer state (Adafactor's factors, 8-bit blocks) is summed over these.
 */
import type { Plan } from "@tradeoffs/core-tensor";
import { linearsTrainable } from "../layer-tensors.js";
import { expertLayerCount, modelLinears } from "../params.js";

/** Trainable tensors of one shape: `count` of them. */
export interface ShapeGroup {
  readonly shape: readonly number[];
  readonly count: number;
}

/** Shapes of every trainable tensor under `plan`. */
export function trainableShapes(plan: Plan): number[][] {
  return trainableShapeGroups(plan).flatMap((g) => Array.from({ length: g.count }, () => [...g.shape]));
}

/**
 * The same tensors as `trainableShapes`, in groups of one shape and a count (one group per matrix
 * role, not one entry per layer): what sums over shapes read, without a list of every tensor.
 */
export function trainableShapeGroups(plan: Plan): ShapeGroup[] {
  const arch = plan.arch;
  const { dModel: d, vocab: V, layers: L, experts: E, sharedExperts: S } = arch;
  const linears = modelLinears(arch);
  const g = (count: number, shape: number[]): ShapeGroup => ({ shape, count });
  if (plan.adapters) {
    const { targets, rank } = plan.adapters;
    return linears
      .filter((m) => targets.includes(m.role))
      .flatMap((m) => [g(m.copies, [rank, m.in]), g(m.copies, [m.out, rank])]);
  }
  const norms = (arch.layerNorms ?? 2) * L + 1;
  const norm = arch.norm === "layernorm" ? [g(2 * norms, [d])] : [g(norms, [d])];
  const Le = expertLayerCount(arch);
  const groups = [
    g(1, [V, d]),
    ...(arch.positional === "learned" ? [g(1, [arch.maxSeq, d])] : []),
    ...norm,
    // MLA's latent norms (DeepSeek-V2: kv_a_layernorm, q_a_layernorm) per layer.
    ...(arch.mla
      ? [
          g(L, [arch.mla.kvLoraRank]),
          ...(arch.mla.qLoraRank === undefined ? [] : [g(L, [arch.mla.qLoraRank])]),
        ]
      : []),
    ...(linearsTrainable(plan) ? linears.map((m) => g(m.copies, [m.out, m.in])) : []),
    ...linears.filter((m) => m.bias).map((m) => g(m.copies, [m.out])),
    ...(E > 1 ? [g(Le, [E, d])] : []),
    ...(arch.sharedExpertGate && S > 0 ? [g(Le, [1, d])] : []),
    ...(arch.tiedEmbeddings ? [] : [g(1, [V, d])]),
  ];
  return groups.filter((x) => x.count > 0);
}
