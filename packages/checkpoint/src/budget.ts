/**
 * `Ckpt[budget=B]`: the schedule with the least recomputation whose predicted peak `act` bytes
 * (`memory-model.ts`) stay ≤ B, found by dynamic programming over the per-layer byte counts (in the
 * spirit of Revolve, Griewank & Walther 2000, and Checkmate, Jain et al. 2020, restricted to the
 * segment schedules core's `checkpoint()` runs). Not a runner and not a measurement.
 *
 * DP: best[k][c] = the least bytes kept by a schedule of layers [0, k) that recomputes c layers and
 * never exceeds B so far. From (k, c, P) a free layer goes to (k+1, c, P + a_k) if P + a_k ≤ B; a
 * segment [k, j) goes to (j, c + j − k, P + b_k) if P + b_k + Σ_{k≤l<j} a_l ≤ B. The least c reaching
 * k = L is the least recomputation; among schedules with that c the one with the lowest peak is
 * chosen by bisecting B. O(L³) per solve, O(L³·log B) in all. The oracle is `budget-naive.ts`.
 */
import { formatBytes, TradeoffsError } from "@tradeoffs/core-tensor";
import { type LayerBytes, layerBytes, type Segments } from "./memory-model.js";

/** No segment schedule fits the budget; `minimumBytes` is the smallest budget that has one. */
export class CheckpointBudgetError extends TradeoffsError {
  /** The budget asked for, in bytes. */
  readonly budgetBytes: number;
  /** The smallest budget that has a schedule, in bytes. */
  readonly minimumBytes: number;
  /** Layers in the stack. */
  readonly layers: number;

  constructor(args: { budgetBytes: number; minimumBytes: number; layers: number }) {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
    super(
      "E_CKPT_BUDGET",
      `no checkpointing schedule of ${args.layers} layers keeps peak activations within ${args.budgetBytes} bytes (${formatBytes(args.budgetBytes)}); the smallest feasible budget is ${args.minimumBytes} bytes (${mib(args.minimumBytes)}): raise the budget to at least that, or shrink the batch or sequence`,
      { ...args },
    );
    this.budgetBytes = args.budgetBytes;
    this.minimumBytes = args.minimumBytes;
    this.layers = args.layers;
  }
}

interface Costs {
  readonly layers: number;
  /** Per-layer saved bytes, rounded up to whole bytes. */
  readonly act: Float64Array;
  /** Per-layer input bytes, rounded up. */
  readonly input: Float64Array;
  /** actPrefix[k] = Σ_{l<k} act[l]. */
  readonly actPrefix: Float64Array;
}

function costs(layers: number, actBytes: LayerBytes, inputBytes: LayerBytes): Costs {
  const act = new Float64Array(layers);
  const input = new Float64Array(layers);
  const actPrefix = new Float64Array(layers + 1);
  for (let l = 0; l < layers; l++) {
    act[l] = Math.ceil(Math.max(0, layerBytes(actBytes, l)));
    input[l] = Math.ceil(Math.max(0, layerBytes(inputBytes, l)));
    actPrefix[l + 1] = actPrefix[l]! + act[l]!;
  }
  return { layers, act, input, actPrefix };
}

/** One DP table: kept bytes and back pointers per (position, recomputed layers). */
interface Table {
  /** kept[k·(L+1) + c]: least kept bytes, Infinity when unreachable. */
  readonly kept: Float64Array;
  /** from[k·(L+1) + c]: the position the last item started at (k − 1 for a free layer). */
  readonly from: Int32Array;
  /** 1 when the last item is a segment. */
  readonly isSegment: Uint8Array;
}

function solve(c: Costs, budget: number): Table {
  const L = c.layers;
  const W = L + 1;
  const kept = new Float64Array(W * W).fill(Number.POSITIVE_INFINITY);
  const from = new Int32Array(W * W).fill(-1);
  const isSegment = new Uint8Array(W * W);
  kept[0] = 0;
  for (let k = 0; k < L; k++) {
    for (let r = 0; r <= k; r++) {
      const P = kept[k * W + r]!;
      if (P === Number.POSITIVE_INFINITY) continue;
      // A free layer keeps its activations until its backward.
      const free = P + c.act[k]!;
      if (free <= budget && free < kept[(k + 1) * W + r]!) {
        kept[(k + 1) * W + r] = free;
        from[(k + 1) * W + r] = k;
        isSegment[(k + 1) * W + r] = 0;
      }
      // A segment [k, j) keeps its input; its recomputation holds Σ act on top while it runs.
      const base = P + c.input[k]!;
      for (let j = k + 1; j <= L; j++) {
        if (base + c.actPrefix[j]! - c.actPrefix[k]! > budget) break;
        const at = j * W + r + (j - k);
        if (base < kept[at]!) {
          kept[at] = base;
          from[at] = k;
          isSegment[at] = 1;
        }
      }
    }
  }
  return { kept, from, isSegment };
}

/** The least recomputed-layer count reachable at the end, or -1. */
function leastRecompute(t: Table, L: number): number {
  for (let r = 0; r <= L; r++) if (t.kept[L * (L + 1) + r]! < Number.POSITIVE_INFINITY) return r;
  return -1;
}

function reconstruct(t: Table, L: number, recompute: number): Segments {
  const W = L + 1;
  const segs: number[][] = [];
  let k = L;
  let r = recompute;
  while (k > 0) {
    const start = t.from[k * W + r]!;
    if (t.isSegment[k * W + r] === 1) {
      const seg: number[] = [];
      for (let l = start; l < k; l++) seg.push(l);
      segs.push(seg);
      r -= k - start;
    }
    k = start;
  }
  return segs.reverse();
}

/** Smallest integer B in [lo, hi] with ok(B), given ok(hi). */
function bisect(lo: number, hi: number, ok: (b: number) => boolean): number {
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}

/**
 * The smallest budget (bytes) for which some segment schedule of these layers exists: the minimum of
 * the predicted peak over all schedules.
 */
export function minimumBudget(
  layers: number,
  layerActBytes: LayerBytes,
  layerInputBytes: LayerBytes,
): number {
  const c = costs(layers, layerActBytes, layerInputBytes);
  // Keeping everything (no checkpointing) always fits Σ act.
  return bisect(0, c.actPrefix[layers]!, (b) => leastRecompute(solve(c, b), layers) >= 0);
}

/**
 * The least-recomputation schedule within `budgetBytes`, lowest predicted peak among equals. Throws
 * `CheckpointBudgetError` (with the smallest feasible budget) when none fits.
 */
export function budgetSegments(
  layers: number,
  layerActBytes: LayerBytes,
  layerInputBytes: LayerBytes,
  budgetBytes: number,
): Segments {
  const c = costs(layers, layerActBytes, layerInputBytes);
  const budget = Math.floor(budgetBytes);
  const least = leastRecompute(solve(c, budget), layers);
  if (least < 0) {
    throw new CheckpointBudgetError({
      budgetBytes,
      minimumBytes: minimumBudget(layers, layerActBytes, layerInputBytes),
      layers,
    });
  }
  // Among schedules recomputing `least` layers, the lowest peak: the smallest budget that still has one.
  const tight = bisect(0, budget, (b) => {
    const r = leastRecompute(solve(c, b), layers);
    return r >= 0 && r <= least;
  });
  return reconstruct(solve(c, tight), layers, least);
}
