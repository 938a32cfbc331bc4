/**
 * The per-token oracle for `MoeFfn.forward`: every token is routed on its own in f64 (softmax, top-k,
 * renormalised gates), the same capacity priority is applied with plain counters, and each chosen
 * expert runs on that one row. Slow on purpose; tests only. Not differentiable.
 */
import { noGrad, scope, type Tensor, tensor, zeros } from "@tradeoffs/core-tensor";
import { expertCapacity } from "./dispatch.js";
import type { MoeFfn } from "./moe.js";

/** y [N, d] for x [..., d] computed token by token (a new `tmp` tensor the caller owns). */
export function moeForwardNaive(m: MoeFfn, x: Tensor): Tensor {
  return noGrad(() =>
    scope(() => {
      const { experts: E, topK: k, capacity } = m.options;
      const d = m.dModel;
      const N = x.size / d;
      const xd = x.data;
      const wr = m.router.data;
      // Route each token: chosen[t] = k expert ids, best first; gate[t] = renormalised probabilities.
      const chosen: number[][] = [];
      const gate: number[][] = [];
      for (let t = 0; t < N; t++) {
        const logits: number[] = [];
        for (let e = 0; e < E; e++) {
          let s = 0;
          for (let i = 0; i < d; i++) s += xd[t * d + i]! * wr[e * d + i]!;
          logits.push(s);
        }
        const mx = Math.max(...logits);
        const p = logits.map((l) => Math.exp(l - mx));
        const order = [...p.keys()].sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, k);
        const z = order.reduce((acc, e) => acc + p[e]!, 0);
        chosen.push(order);
        gate.push(order.map((e) => p[e]! / z));
      }
      // Capacity: first choices before second choices, earlier tokens first.
      const cap = expertCapacity(N, k, E, capacity);
      const used = new Array<number>(E).fill(0);
      const kept = chosen.map((c) => c.map(() => false));
      for (let j = 0; j < k; j++) {
        for (let t = 0; t < N; t++) {
          const e = chosen[t]![j]!;
          if (used[e]! < cap) {
            used[e]!++;
            kept[t]![j] = true;
          }
        }
      }
      const y = zeros([N, d]);
      const yd = y.data;
      for (let t = 0; t < N; t++) {
        const row = tensor(xd.subarray(t * d, (t + 1) * d), [1, d]);
        for (let j = 0; j < k; j++) {
          if (!kept[t]![j]) continue;
          const out = m.experts[chosen[t]![j]!]!.forward(row).data;
          for (let i = 0; i < d; i++) yd[t * d + i] = yd[t * d + i]! + gate[t]![j]! * out[i]!;
        }
        for (const s of m.shared) {
          const out = s.forward(row).data;
          for (let i = 0; i < d; i++) yd[t * d + i] = yd[t * d + i]! + out[i]!;
        }
      }
      return y;
    }),
  );
}
