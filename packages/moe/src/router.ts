/**
 * The MoE router's selection step: top-k experts per token from router logits, with gate weights
 * renormalised over the chosen k (softmax of the chosen logits = softmax probabilities divided by
 * their sum over the chosen experts). Differentiable in the logits. Not the router's linear layer
 * (that lives in moe.ts) and not the load-balancing losses (aux-loss.ts).
 */
import { empty, record, ShapeError, softmax, type Tensor, topk, ValueError } from "@tradeoffs/core-tensor";

/**
 * out[t, j] = x[t, idx[t, j]] for x [N, E] (f32) and idx [N, k] (i32) → [N, k]. Differentiable in x:
 * the gradient scatters back into the chosen columns.
 */
export function takeAlong(x: Tensor, idx: Tensor): Tensor {
  if (x.rank !== 2 || idx.rank !== 2 || idx.dim(0) !== x.dim(0)) {
    throw new ShapeError(
      "takeAlong",
      `needs x [N, E] and idx [N, k] with the same N, got [${x.shape}] and [${idx.shape}]`,
    );
  }
  const [N, E] = x.shape as [number, number];
  const k = idx.dim(1);
  const o = empty([N, k]);
  const od = o.data;
  const xd = x.data;
  const iv = idx.int32;
  for (let t = 0; t < N; t++) {
    for (let j = 0; j < k; j++) {
      const e = iv[t * k + j]!;
      if (!(e >= 0 && e < E))
        throw new ValueError(`takeAlong: index ${e} at [${t}, ${j}] is outside [0, ${E})`);
      od[t * k + j] = xd[t * E + e]!;
    }
  }
  return record(o, "takeAlong", [x], [idx], (g, [sidx]) => {
    const r = empty([N, E]);
    const rd = r.data;
    const gd = g.data;
    const sv = sidx!.int32;
    for (let i = 0; i < N * k; i++) {
      const t = (i / k) | 0;
      rd[t * E + sv[i]!] = rd[t * E + sv[i]!]! + gd[i]!;
    }
    return [r];
  });
}

/** Chosen experts and their gate weights for N tokens. */
export interface Routing {
  /** [N, k] i32: expert ids, best first (ties go to the lower id). */
  readonly indices: Tensor;
  /** [N, k] f32: gate weights ≥ 0 that sum to 1 per token; differentiable in the logits. */
  readonly gates: Tensor;
}

/** Top-k routing of router logits [N, E]. The caller owns both returned tensors. */
export function routeTopK(logits: Tensor, k: number): Routing {
  if (logits.rank !== 2)
    throw new ShapeError("routeTopK", `logits must be [tokens, experts], got [${logits.shape}]`);
  const E = logits.dim(1);
  if (!(Number.isInteger(k) && k >= 1 && k <= E)) {
    throw new ValueError(
      `routeTopK: topK must be an integer in [1, ${E}] (the number of experts), got ${k}`,
      { k, experts: E },
    );
  }
  const { values, indices } = topk(logits, k); // softmax is monotone: top-k of logits = top-k of probs
  values.dispose();
  const chosen = takeAlong(logits, indices); // [N, k]
  const gates = softmax(chosen); // = p_chosen / Σ p_chosen
  chosen.dispose();
  return { indices, gates };
}
