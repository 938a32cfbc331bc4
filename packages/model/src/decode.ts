/**
 * Greedy decoding with a KV cache: one prefill of the prompts, then one token per step, each the
 * argmax of the last position's logits. Not here: sampling strategies or stopping rules.
 */
import { type KvCache, type Tensor, tensor, ValueError } from "@tradeoffs/core-tensor";

/** What decoding needs from a model. */
export interface Decodable {
  createCache(batch: number, maxSeq: number): KvCache;
  forward(ids: Tensor, cache: KvCache | null): Tensor;
}

/** Index of the largest of `V` logits starting at `base` (the first one on ties). */
function argmax(logits: Float32Array, base: number, V: number): number {
  let best = 0;
  for (let j = 1; j < V; j++) if (logits[base + j]! > logits[base + best]!) best = j;
  return best;
}

/**
 * prompts [B][P] → generated tokens [B][n]. `onStep(i)` runs after step i's tokens are chosen
 * (step 0 is the prefill), e.g. to time the phases. The cache and every tensor are freed on return
 * or throw.
 */
export function greedyDecode(
  model: Decodable,
  prompts: readonly (readonly number[])[],
  n: number,
  onStep?: (step: number) => void,
): number[][] {
  const B = prompts.length;
  const P = prompts[0]?.length ?? 0;
  if (B === 0 || P === 0 || prompts.some((p) => p.length !== P)) {
    throw new ValueError("generate: needs at least one prompt, all of the same non-zero length");
  }
  const cache = model.createCache(B, P + n);
  const out: number[][] = prompts.map(() => []);
  let next: Tensor | null = null;
  try {
    next = tensor(prompts.flat(), [B, P], { dtype: "i32" });
    for (let step = 0; step < n; step++) {
      const logits = model.forward(next, cache); // (B, T, V)
      next.dispose();
      next = null;
      const T = logits.dim(1);
      const V = logits.dim(2);
      const ids = out.map((tokens, b) => {
        const id = argmax(logits.data, (b * T + T - 1) * V, V);
        tokens.push(id);
        return id;
      });
      logits.dispose();
      next = tensor(ids, [B, 1], { dtype: "i32" });
      onStep?.(step);
    }
  } finally {
    next?.dispose();
    cache.dispose();
  }
  return out;
}
