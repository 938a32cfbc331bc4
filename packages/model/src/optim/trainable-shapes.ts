/**
 * Size first (llm.c): the shapes of the tensors that receive gradients under a plan, as the
 * executable model allocates them (embedding, norms, linears and their biases, routers, head; LoRA's
 * A and B alone with adapters), from the same matrix list as the parameter counts (params.ts).
 * Shape-dependent optimizer state (Adafactor's factors, 8-bit blocks) is summed over these.
 */
import type { Plan } from "@tradeoffs/core-tensor";
import { linearsTrainable } from "../layer-tensors.js";
import { expertLayerCount, modelLinears } from "../params.js";

/** `n` copies of `shape`. */
const times = (n: number, shape: number[]): number[][] => Array.from({ length: n }, () => shape);

/** Shapes of every trainable tensor under `plan`. */
export function trainableShapes(plan: Plan): number[][] {
  const arch = plan.arch;
  const { dModel: d, vocab: V, layers: L, experts: E, sharedExperts: S } = arch;
  const linears = modelLinears(arch);
  if (plan.adapters) {
    const { targets, rank } = plan.adapters;
    return linears
      .filter((m) => targets.includes(m.role))
      .flatMap((m) =>
        times(m.copies, [0]).flatMap(() => [
          [rank, m.in],
          [m.out, rank],
        ]),
      );
  }
  const norm = arch.norm === "layernorm" ? [[d], [d]] : [[d]];
  const Le = expertLayerCount(arch);
  return [
    [V, d],
    ...(arch.positional === "learned" ? [[arch.maxSeq, d]] : []),
    ...times((arch.layerNorms ?? 2) * L + 1, [0]).flatMap(() => norm),
    // MLA's latent norms (DeepSeek-V2: kv_a_layernorm, q_a_layernorm) per layer.
    ...(arch.mla
      ? times(L, [arch.mla.kvLoraRank]).concat(
          arch.mla.qLoraRank === undefined ? [] : times(L, [arch.mla.qLoraRank]),
        )
      : []),
    ...(linearsTrainable(plan) ? linears.flatMap((m) => times(m.copies, [m.out, m.in])) : []),
    ...linears.filter((m) => m.bias).flatMap((m) => times(m.copies, [m.out])),
    ...(E > 1 ? times(Le, [E, d]) : []),
    ...(arch.sharedExpertGate && S > 0 ? times(Le, [1, d]) : []),
    ...(arch.tiedEmbeddings ? [] : [[V, d]]),
  ];
}
