/**
 * The attention oracle written from AttendOptions' definition with plain loops and f64 softmax,
 * independent of every kernel in the project (it shares no mask helper with them). Not fast, not
 * differentiable: it is what Standard, Flash on JS and Flash on WASM are all held to.
 */
import { type AttendOptions, type Tensor, tensor } from "@tradeoffs/core-tensor";

/**
 * The keys query `i` of `tq` sees among `tk`, as [first, last] inclusive (first > last: none).
 * Causal aligns the queries bottom-right: query i's last key is i + tk − tq (else every key, tk − 1);
 * a window keeps the last `window` keys up to that last one.
 */
export function oracleVisibleKeys(i: number, tq: number, tk: number, o: AttendOptions): [number, number] {
  const last = o.causal ? Math.min(i + tk - tq, tk - 1) : tk - 1;
  const first = o.window === undefined ? 0 : Math.max(0, last - o.window + 1);
  return [first, last];
}

/**
 * softmax(scale · q·kᵀ, masked)·v for q [B, H, Tq, D], k and v [B, Hkv, Tk, D]; query head h reads
 * K/V head ⌊h / (H / Hkv)⌋; scale defaults to 1/√D; a query that sees no key gets zeros.
 */
export function naiveAttention(q: Tensor, k: Tensor, v: Tensor, o: AttendOptions): Tensor {
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const [, Hkv, Tk] = k.shape as [number, number, number, number];
  const qd = q.data;
  const kd = k.data;
  const vd = v.data;
  const out = new Float64Array(B * H * Tq * D);
  const scale = o.scale ?? 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / (H / Hkv));
      for (let i = 0; i < Tq; i++) {
        const [first, last] = oracleVisibleKeys(i, Tq, Tk, o);
        if (first > last) continue;
        const scores: number[] = [];
        for (let j = first; j <= last; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++)
            dot += qd[((b * H + h) * Tq + i) * D + d]! * kd[((b * Hkv + kh) * Tk + j) * D + d]!;
          scores.push(dot * scale);
        }
        const m = Math.max(...scores);
        const e = scores.map((x) => Math.exp(x - m));
        const sum = e.reduce((x, y) => x + y, 0);
        for (let j = 0; j < e.length; j++)
          for (let d = 0; d < D; d++)
            out[((b * H + h) * Tq + i) * D + d]! +=
              (e[j]! / sum) * vd[((b * Hkv + kh) * Tk + first + j) * D + d]!;
      }
    }
  return tensor(Array.from(out), [B, H, Tq, D]);
}
