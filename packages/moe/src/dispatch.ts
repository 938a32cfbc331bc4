/**
 * Token dispatch for a mixture of experts: group the (token, choice) assignments of a top-k routing by
 * expert, enforcing the expert capacity ⌈tokens·k/E·c⌉. Pure index arithmetic on small Int32Arrays
 * (transient scratch of tokens·k entries, not model state); the tensors move in moe.ts.
 */
import { ValueError } from "@tradeoffs/core-tensor";

/** Expert capacity ⌈tokens·k/E·c⌉; `Infinity` when c is (dropless). */
export function expertCapacity(
  tokens: number,
  topK: number,
  experts: number,
  capacityFactor: number,
): number {
  if (!(capacityFactor > 0)) {
    throw new ValueError(`expertCapacity: capacity factor must be > 0 or inf, got ${capacityFactor}`, {
      capacity: capacityFactor,
    });
  }
  if (capacityFactor === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  return Math.ceil(((tokens * topK) / experts) * capacityFactor);
}

/** Assignments grouped by expert; expert e owns entries [offsets[e], offsets[e+1]). */
export interface Dispatch {
  /** Tokens N routed. */
  readonly tokens: number;
  /** Choices per token k. */
  readonly topK: number;
  /** Routed experts E. */
  readonly experts: number;
  /** Per-expert limit (Infinity = dropless). */
  readonly capacity: number;
  /** [kept] token row of each kept assignment, grouped by expert. */
  readonly tokenIds: Int32Array;
  /** [kept] flat assignment index t·k + j of each kept assignment (to find its gate). */
  readonly slotIds: Int32Array;
  /** [E + 1] group boundaries in tokenIds / slotIds. */
  readonly offsets: Int32Array;
  /** [E] assignments the router sent to each expert (before capacity). */
  readonly routed: Int32Array;
  /** [E] assignments each expert processes (after capacity). */
  readonly kept: Int32Array;
  /** Assignments dropped by capacity (their contribution is zero; the residual carries the token). */
  readonly dropped: number;
}

/**
 * Group assignments by expert. `indices` is the router's [tokens, k] choice table (row-major). When an
 * expert overflows, first choices win over second choices, then earlier tokens over later ones
 * (GShard's priority): assignments are visited choice-major, j = 0..k−1, then t = 0..N−1.
 */
export function dispatchTokens(
  indices: Int32Array,
  tokens: number,
  topK: number,
  experts: number,
  capacityFactor: number,
): Dispatch {
  if (indices.length !== tokens * topK) {
    throw new ValueError(
      `dispatchTokens: ${indices.length} choices for ${tokens} tokens × topK ${topK}; need ${tokens * topK}`,
    );
  }
  const capacity = expertCapacity(tokens, topK, experts, capacityFactor);
  const routed = new Int32Array(experts);
  for (let i = 0; i < indices.length; i++) {
    const e = indices[i]!;
    if (!(e >= 0 && e < experts))
      throw new ValueError(`dispatchTokens: expert id ${e} at ${i} is outside [0, ${experts})`);
    routed[e]!++;
  }
  const kept = new Int32Array(experts);
  for (let e = 0; e < experts; e++) kept[e] = Math.min(routed[e]!, capacity);
  const offsets = new Int32Array(experts + 1);
  for (let e = 0; e < experts; e++) offsets[e + 1] = offsets[e]! + kept[e]!;
  const total = offsets[experts]!;
  const tokenIds = new Int32Array(total);
  const slotIds = new Int32Array(total);
  const fill = offsets.slice(0, experts);
  for (let j = 0; j < topK; j++) {
    for (let t = 0; t < tokens; t++) {
      const slot = t * topK + j;
      const e = indices[slot]!;
      const at = fill[e]!;
      if (at >= offsets[e + 1]!) continue; // over capacity: dropped for this expert
      tokenIds[at] = t;
      slotIds[at] = slot;
      fill[e] = at + 1;
    }
  }
  return {
    tokens,
    topK,
    experts,
    capacity,
    tokenIds,
    slotIds,
    offsets,
    routed,
    kept,
    dropped: tokens * topK - total,
  };
}

/** Coefficient of variation (std / mean, population std) of a load vector; 0 for an all-zero load. */
export function coefficientOfVariation(load: ArrayLike<number>): number {
  const n = load.length;
  if (n === 0) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += load[i]!;
  mean /= n;
  if (mean === 0) return 0;
  let v = 0;
  for (let i = 0; i < n; i++) v += (load[i]! - mean) ** 2;
  return Math.sqrt(v / n) / mean;
}
