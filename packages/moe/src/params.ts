/**
 * Parameter arithmetic of the FFN part of a transformer with (or without) experts: total parameters
 * (every expert is held in memory) vs active parameters per token (the top-k routed experts, the
 * shared experts and the router), and the forward FLOPs per token that follow from the active ones.
 * Counts only; the estimator in `@tradeoffs/model` adds attention, embeddings and norms.
 */
import type { ArchSpec } from "@tradeoffs/core-tensor";

/** FFN parameter and FLOP counts of a model, total (held in memory) vs active (used per token). */
export interface MoeParamCounts {
  /** Parameters of one expert (3·d·h for SwiGLU, 2·d·h for GELU; plus biases if the arch has them). */
  readonly perExpert: number;
  /** Router parameters per layer (d·E; 0 for a dense FFN). */
  readonly router: number;
  /** FFN parameters of one layer held in memory: E·expert + shared·expert + router. */
  readonly totalPerLayer: number;
  /** FFN parameters one token uses in one layer: k·expert + shared·expert + router. */
  readonly activePerLayer: number;
  /** totalPerLayer · layers. */
  readonly total: number;
  /** activePerLayer · layers. */
  readonly active: number;
  /** Forward FLOPs per token of the FFN part (2 per active weight: one multiply, one add). */
  readonly forwardFlopsPerToken: number;
}

/** Total vs active FFN parameters of `arch` (experts=1, shared=0 is the dense FFN: no router). */
export function moeParamCounts(
  arch: Pick<
    ArchSpec,
    "layers" | "dModel" | "ffnHidden" | "ffnKind" | "biases" | "experts" | "topK" | "sharedExperts"
  >,
): MoeParamCounts {
  const d = arch.dModel;
  const h = arch.ffnHidden;
  const matrices = arch.ffnKind === "swiglu" ? 3 : 2;
  const biases = arch.biases ? (matrices - 1) * h + d : 0;
  const perExpert = matrices * d * h + biases;
  const routed = Math.max(1, arch.experts);
  const router = routed > 1 ? d * routed : 0;
  const shared = arch.sharedExperts * perExpert;
  const totalPerLayer = routed * perExpert + shared + router;
  const activePerLayer = Math.min(arch.topK, routed) * perExpert + shared + router;
  return {
    perExpert,
    router,
    totalPerLayer,
    activePerLayer,
    total: totalPerLayer * arch.layers,
    active: activePerLayer * arch.layers,
    forwardFlopsPerToken: 2 * activePerLayer * arch.layers,
  };
}
