/**
 * Softmax over attention scores with the causal / sliding-window mask applied on the fly (no mask
 * tensor), scaled first. Saves only its output for backward: masked entries are exact zeros there,
 * so they receive no gradient. Shared by Standard attention; Flash never materialises these scores.
 */
import { empty, getBackend, jsBackend, record, type Tensor } from "@tradeoffs/core-tensor";

/**
 * Which keys query `i` may see: [lo, hi] inclusive, for Tq queries over Tk keys. The one mask rule
 * (AttendOptions): hi = i + Tk − Tq when causal (bottom-right aligned), else Tk − 1; a window keeps the
 * last `window` keys up to hi, lo = max(0, hi − window + 1). core-tensor's WASM attention kernel
 * applies the same rule; the testkit's `naiveAttention` checks both from the definition.
 */
export function visibleKeys(
  i: number,
  tq: number,
  tk: number,
  causal: boolean,
  window?: number,
): [number, number] {
  return [visibleLo(i, tq, tk, causal, window), visibleHi(i, tq, tk, causal)];
}

/** First key query `i` may see (`visibleKeys(...)[0]` without the tuple, for the Flash kernel's inner loop). */
export function visibleLo(i: number, tq: number, tk: number, causal: boolean, window?: number): number {
  if (window === undefined) return 0;
  return Math.max(0, visibleHi(i, tq, tk, causal) - window + 1);
}

/** Last key query `i` may see (`visibleKeys(...)[1]`). */
export function visibleHi(i: number, tq: number, tk: number, causal: boolean): number {
  return causal ? Math.min(i + (tk - tq), tk - 1) : tk - 1;
}

/**
 * p = softmax(scale · s) over the last axis of s [..., rows, Tk], where row r is query r mod Tq
 * (grouped heads stack their queries along rows).
 */
export function maskedSoftmax(
  s: Tensor,
  tq: number,
  scale: number,
  causal: boolean,
  window?: number,
): Tensor {
  const tk = s.dim(-1);
  const rows = tk === 0 ? 0 : s.size / tk;
  const x = s.data;
  const out = empty(s.shape);
  const y = out.data;
  // The backend's kernel when it has one (WASM: SIMD with a four-lane exp), else the JS reference.
  const kernel = getBackend().maskedSoftmax ?? jsBackend.maskedSoftmax!;
  kernel({ x, out: y, rows, tq, tk, scale, causal, window });
  return record(out, "maskedSoftmax", [s], [out], (g, [sy]) => {
    const r = empty(s.shape);
    const gd = g.data;
    const yd = sy!.data;
    const rd = r.data;
    for (let row = 0; row < rows; row++) {
      const o = row * tk;
      let dot = 0;
      for (let j = 0; j < tk; j++) dot += gd[o + j]! * yd[o + j]!;
      for (let j = 0; j < tk; j++) rd[o + j] = scale * yd[o + j]! * (gd[o + j]! - dot);
    }
    return [r];
  });
}
