/**
 * The router's auxiliary losses, unweighted: Switch Transformer's load-balancing loss E · Σ_e f_e · P_e
 * (Fedus et al. 2021, eq. 4) and ST-MoE's router z-loss, mean over tokens of logsumexp(logits)²
 * (Zoph et al. 2022, eq. 5). Both are differentiable in the router (f_e is a count, so it is constant).
 * Not the weighting by coefficients (moe.ts does that).
 */
import {
  empty,
  mean,
  mul,
  record,
  ShapeError,
  scale,
  square,
  sum,
  type Tensor,
  tensor,
} from "@tradeoffs/core-tensor";

/**
 * E · Σ_e f_e · P_e for router probabilities `probs` [N, E] and the per-expert assignment counts
 * `routed` [E] of a top-k routing (before capacity). f_e = routed_e / (N·k) is the fraction of
 * assignments sent to e and P_e the mean router probability of e; the loss is 1 when both are uniform.
 * Returns a one-element tensor.
 */
export function loadBalancingLoss(probs: Tensor, routed: ArrayLike<number>, topK: number): Tensor {
  if (probs.rank !== 2 || probs.dim(1) !== routed.length) {
    throw new ShapeError(
      "loadBalancingLoss",
      `probs must be [tokens, ${routed.length}], got [${probs.shape}]`,
    );
  }
  const [N, E] = probs.shape as [number, number];
  const f = new Float32Array(E);
  for (let e = 0; e < E; e++) f[e] = N > 0 ? routed[e]! / (N * topK) : 0;
  const fT = tensor(f, [E]);
  const p = mean(probs, 0); // [E]
  const fp = mul(p, fT);
  const s = sum(fp);
  const out = scale(s, E);
  for (const t of [fT, p, fp, s]) t.dispose();
  return out;
}

/** Row-wise log Σ_j exp(x[i, j]) of x [N, E] → [N] (max-subtracted). Gradient: softmax(x) · g. */
export function logsumexp(x: Tensor): Tensor {
  if (x.rank !== 2) throw new ShapeError("logsumexp", `needs [rows, cols], got [${x.shape}]`);
  const [N, E] = x.shape as [number, number];
  const o = empty([N]);
  const xd = x.data;
  const od = o.data;
  for (let i = 0; i < N; i++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < E; j++) m = Math.max(m, xd[i * E + j]!);
    let s = 0;
    for (let j = 0; j < E; j++) s += Math.exp(xd[i * E + j]! - m);
    od[i] = m + Math.log(s);
  }
  return record(o, "logsumexp", [x], [x, o], (g, [sx, so]) => {
    const r = empty([N, E]);
    const rd = r.data;
    const a = sx!.data;
    const l = so!.data;
    const gd = g.data;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < E; j++) rd[i * E + j] = Math.exp(a[i * E + j]! - l[i]!) * gd[i]!;
    }
    return [r];
  });
}

/** mean_t logsumexp(logits_t)² for router logits [N, E]; a one-element tensor. */
export function routerZLoss(logits: Tensor): Tensor {
  const lse = logsumexp(logits);
  const sq = square(lse);
  const out = mean(sq);
  lse.dispose();
  sq.dispose();
  return out;
}
