/**
 * Fixed-size segment schedules: `every=k` (runs of k layers), `sqrt` (runs of about √L layers,
 * Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost", arXiv:1604.06174) and `all`
 * (every layer its own segment). Pure functions of L; the byte-driven schedule is `budget.ts`.
 */
import { ValueError } from "@tradeoffs/core-tensor";
import { checkLayers, type Segments } from "./memory-model.js";

/** Runs of `every` consecutive layers covering [0, L): [[0..k−1], [k..2k−1], ...]; the last may be shorter. */
export function everySegments(layers: number, every: number): Segments {
  if (!(Number.isInteger(every) && every >= 1)) {
    throw new ValueError(`every must be an integer ≥ 1 (layers per segment), got ${every}`, { every });
  }
  checkLayers(layers);
  const out: number[][] = [];
  for (let s = 0; s < layers; s += every) {
    const seg: number[] = [];
    for (let l = s; l < Math.min(layers, s + every); l++) seg.push(l);
    out.push(seg);
  }
  return out;
}

/** Segment length used by `sqrt`: round(√L), at least 1. */
export function sqrtEvery(layers: number): number {
  return Math.max(1, Math.round(Math.sqrt(layers)));
}

/** Segments of about √L layers (so about √L segments). */
export function sqrtSegments(layers: number): Segments {
  return everySegments(layers, sqrtEvery(layers));
}

/** Every layer its own segment: keep only layer inputs, recompute each layer. */
export function allSegments(layers: number): Segments {
  return everySegments(layers, 1);
}
