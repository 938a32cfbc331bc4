/**
 * The oracle for `budget.ts`: enumerate every segment schedule of L layers (each layer free, starting a
 * segment, or continuing the current one: at most 3^L) and pick by brute force. Only for small L.
 */
import { type LayerBytes, predictPeakAct, recomputedLayers, type Segments } from "./memory-model.js";

/** Every segment schedule of `layers` layers (3^L-ish; keep L ≤ 9). */
export function allSchedules(layers: number): Segments[] {
  const out: Segments[] = [];
  const walk = (l: number, segs: number[][], open: boolean): void => {
    if (l === layers) {
      out.push(segs.map((s) => [...s]));
      return;
    }
    walk(l + 1, segs, false); // free
    segs.push([l]);
    walk(l + 1, segs, true); // start a segment
    segs.pop();
    if (open) {
      const last = segs[segs.length - 1]!;
      last.push(l);
      walk(l + 1, segs, true); // continue it
      last.pop();
    }
  };
  walk(0, [], false);
  return out;
}

/** The least recomputation and, among those, the least peak, over every schedule within the budget. */
export function naiveBudgetOptimum(
  layers: number,
  layerActBytes: LayerBytes,
  layerInputBytes: LayerBytes,
  budgetBytes: number,
): { recomputed: number; peak: number } | null {
  let best: { recomputed: number; peak: number } | null = null;
  for (const s of allSchedules(layers)) {
    const peak = predictPeakAct(layers, layerActBytes, layerInputBytes, s);
    if (peak > budgetBytes) continue;
    const recomputed = recomputedLayers(s);
    if (!best || recomputed < best.recomputed || (recomputed === best.recomputed && peak < best.peak)) {
      best = { recomputed, peak };
    }
  }
  return best;
}

/** The least predicted peak over every schedule (the smallest feasible budget). */
export function naiveMinimumBudget(
  layers: number,
  layerActBytes: LayerBytes,
  layerInputBytes: LayerBytes,
): number {
  let best = Number.POSITIVE_INFINITY;
  for (const s of allSchedules(layers)) {
    best = Math.min(best, predictPeakAct(layers, layerActBytes, layerInputBytes, s));
  }
  return best;
}
