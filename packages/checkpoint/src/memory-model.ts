/**
 * The memory model every checkpointing policy is judged by: predicted peak `act` bytes of a stack of
 * L layers run with some segments, and the extra forward work. Pure arithmetic on byte counts; it runs
 * nothing (the schedule runner is `run-segments.ts`, the measurement is the ledger's).
 *
 * Model. Layers run in order 0..L−1; a *segment* is a run of consecutive layers executed under core's
 * `checkpoint()` (it keeps only its input, b bytes); a *free* layer (in no segment) keeps everything it
 * saves for backward (a bytes). Walking the items (segments and free layers) in order, let P_i be the
 * bytes kept by the items before item i. Backward visits the items in reverse, releasing as it goes, so
 * while item i is processed the kept bytes are P_i plus
 *   - a free layer: its own a_i (already counted at the end of forward), and
 *   - a segment S_i: its kept input b_i plus every activation its recomputation saves, Σ_{l∈S_i} a_l.
 * Peak act = max( Σ_all kept, max_i (P_i + transient_i) ). With uniform layers and m segments of n:
 * peak = (m−1)·b + b + n·a, so `every=n` gives ≈ (L/n)·b + n·a, minimised near n = √(L·b/a).
 * The figure is exact when a layer does not save its own input tensor, and an upper bound by one b
 * when it does (the recomputed first layer then re-saves the segment input, which the ledger counts once).
 */
import { ValueError } from "@tradeoffs/core-tensor";

/** Groups of consecutive layer indices, each run under one `checkpoint()`; `[]` checkpoints nothing. */
export type Segments = readonly (readonly number[])[];

/** Per-layer byte counts: one number for every layer, or one per layer. */
export type LayerBytes = number | readonly number[];

/** Throw a `ValueError` unless `layers` is a non-negative integer. */
export function checkLayers(layers: number): void {
  if (!(Number.isInteger(layers) && layers >= 0)) {
    throw new ValueError(`layers must be a non-negative integer, got ${layers}`, { layers });
  }
}

/** The value of `bytes` for layer `l`. */
export function layerBytes(bytes: LayerBytes, l: number): number {
  return typeof bytes === "number" ? bytes : (bytes[l] ?? 0);
}

/** One step of a schedule in forward order: a checkpointed segment [start, end) or a free layer. */
export interface ScheduleItem {
  /** `segment`: checkpointed (recomputed in backward); `free`: keeps its activations. */
  readonly kind: "segment" | "free";
  /** First layer (inclusive). */
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

/**
 * Check that `segments` are disjoint runs of consecutive layers in [0, L), in increasing order, and
 * return the full schedule (segments and the free layers between them). Throws a `ValueError` naming
 * the first bad segment.
 */
export function scheduleItems(layers: number, segments: Segments): ScheduleItem[] {
  checkLayers(layers);
  const items: ScheduleItem[] = [];
  let next = 0;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s]!;
    const start = seg[0];
    const ok =
      start !== undefined &&
      Number.isInteger(start) &&
      start >= next &&
      seg.every((l, i) => l === start + i) &&
      start + seg.length <= layers;
    if (!ok) {
      throw new ValueError(
        `segment ${s} [${seg.join(",")}] is not a non-empty run of consecutive layers after layer ${next - 1} and below ${layers}; segments must be disjoint, ordered runs in [0, ${layers})`,
        { segment: s, layers: [...seg], numLayers: layers },
      );
    }
    for (; next < start; next++) items.push({ kind: "free", start: next, end: next + 1 });
    items.push({ kind: "segment", start, end: start + seg.length });
    next = start + seg.length;
  }
  for (; next < layers; next++) items.push({ kind: "free", start: next, end: next + 1 });
  return items;
}

/**
 * Predicted peak activation (`act`) bytes of L layers run with `segments` (see the model at the top of
 * this file). `layerActBytes`: what one layer saves for backward without checkpointing;
 * `layerInputBytes`: the bytes of one layer input (what a segment keeps).
 */
export function predictPeakAct(
  layers: number,
  layerActBytes: LayerBytes,
  layerInputBytes: LayerBytes,
  segments: Segments,
): number {
  let kept = 0;
  let peak = 0;
  for (const it of scheduleItems(layers, segments)) {
    if (it.kind === "free") {
      kept += layerBytes(layerActBytes, it.start);
      peak = Math.max(peak, kept);
    } else {
      const input = layerBytes(layerInputBytes, it.start);
      let recomputed = 0;
      for (let l = it.start; l < it.end; l++) recomputed += layerBytes(layerActBytes, l);
      peak = Math.max(peak, kept + input + recomputed);
      kept += input;
    }
  }
  return Math.max(peak, kept);
}

/** Layers that run twice (once in forward without saving, once in backward): Σ |S_i|. */
export function recomputedLayers(segments: Segments): number {
  let n = 0;
  for (const s of segments) n += s.length;
  return n;
}

/**
 * Extra forward FLOPs as a fraction of one forward of the stack: every checkpointed layer runs its
 * forward once more in backward, so Σ |S_i| / L (0 for `None`, 1 for `Ckpt[all]` and `Ckpt[sqrt]`).
 */
export function recomputeFactor(layers: number, segments: Segments): number {
  scheduleItems(layers, segments);
  return layers === 0 ? 0 : recomputedLayers(segments) / layers;
}
