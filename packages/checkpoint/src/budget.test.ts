import { TradeoffsError } from "@tradeoffs/core-tensor";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { budgetSegments, CheckpointBudgetError, minimumBudget } from "./budget.js";
import { allSchedules, naiveBudgetOptimum, naiveMinimumBudget } from "./budget-naive.js";
import { everySegments } from "./fixed-segments.js";
import { predictPeakAct, recomputedLayers, scheduleItems } from "./memory-model.js";

/** Layers, integer per-layer bytes (uniform or per layer) and a budget between the minimum and None. */
const instance = (maxLayers: number) =>
  fc
    .record({
      layers: fc.integer({ min: 1, max: maxLayers }),
      act: fc.integer({ min: 1, max: 1000 }),
      input: fc.integer({ min: 1, max: 1000 }),
      perLayer: fc.option(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 300 }))),
        {
          nil: undefined,
        },
      ),
      t: fc.double({ min: 0, max: 1.2, noNaN: true }),
    })
    .map(({ layers, act, input, perLayer, t }) => {
      const a = perLayer && perLayer.length >= layers ? perLayer.slice(0, layers).map((p) => p[0]) : act;
      const b = perLayer && perLayer.length >= layers ? perLayer.slice(0, layers).map((p) => p[1]) : input;
      const none = predictPeakAct(layers, a, b, []);
      const min = naiveOrFastMin(layers, a, b);
      return { layers, a, b, budget: Math.floor(min + t * (none - min)) };
    });

function naiveOrFastMin(layers: number, a: number | number[], b: number | number[]): number {
  return layers <= 7 ? naiveMinimumBudget(layers, a, b) : minimumBudget(layers, a, b);
}

describe("the brute-force oracle", () => {
  it("enumerates every schedule (free / start / continue per layer)", () => {
    // L=1: free or one segment; L=2: ff, f[1], [0]f, [0][1], [0,1].
    expect(allSchedules(1)).toHaveLength(2);
    expect(allSchedules(2)).toHaveLength(5);
  });
});

describe("Ckpt[budget] dynamic programme", () => {
  it("keeps everything when the budget allows it", () => {
    expect(budgetSegments(8, 100, 10, 800)).toEqual([]);
  });
  it("checkpoints only as many layers as the budget needs, first layers first", () => {
    // Half of None: the cheapest fit checkpoints the first layers and leaves the tail free.
    const segs = budgetSegments(8, 100, 10, 400);
    expect(predictPeakAct(8, 100, 10, segs)).toBeLessThanOrEqual(400);
    expect(recomputedLayers(segs)).toBe(naiveBudgetOptimum(8, 100, 10, 400)?.recomputed);
    expect(segs[0]?.[0]).toBe(0);
  });
  it("throws CheckpointBudgetError with the smallest feasible budget in bytes and MiB", () => {
    const min = minimumBudget(16, 1 << 20, 1 << 17);
    // No fixed schedule does better than the minimum.
    for (let k = 1; k <= 16; k++) {
      expect(min).toBeLessThanOrEqual(predictPeakAct(16, 1 << 20, 1 << 17, everySegments(16, k)));
    }
    let err: unknown;
    try {
      budgetSegments(16, 1 << 20, 1 << 17, min - 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointBudgetError);
    expect(err).toBeInstanceOf(TradeoffsError);
    const e = err as CheckpointBudgetError;
    expect(e.minimumBytes).toBe(min);
    expect(e.code).toBe("E_CKPT_BUDGET");
    expect(e.message).toContain(`${min} bytes (${(min / 2 ** 20).toFixed(2)} MiB)`);
    expect(() => budgetSegments(16, 1 << 20, 1 << 17, min)).not.toThrow();
  });
  it("property: matches the brute-force optimum (least recompute, then least peak) for L ≤ 7", () => {
    fc.assert(
      fc.property(instance(7), ({ layers, a, b, budget }) => {
        const want = naiveBudgetOptimum(layers, a, b, budget);
        if (!want) {
          expect(() => budgetSegments(layers, a, b, budget)).toThrow(CheckpointBudgetError);
          return;
        }
        const segs = budgetSegments(layers, a, b, budget);
        expect(recomputedLayers(segs)).toBe(want.recomputed);
        expect(predictPeakAct(layers, a, b, segs)).toBe(want.peak);
      }),
      { numRuns: 150 },
    );
  });
  it("property: minimumBudget equals the brute-force least peak for L ≤ 7", () => {
    fc.assert(
      fc.property(instance(7), ({ layers, a, b }) => {
        expect(minimumBudget(layers, a, b)).toBe(naiveMinimumBudget(layers, a, b));
      }),
      { numRuns: 100 },
    );
  });
  it("property: valid segments, peak ≤ budget, and no every=k within budget recomputes less or peaks lower at equal cost", () => {
    fc.assert(
      fc.property(instance(40), ({ layers, a, b, budget }) => {
        let segs: ReturnType<typeof budgetSegments>;
        try {
          segs = budgetSegments(layers, a, b, budget);
        } catch (e) {
          expect(e).toBeInstanceOf(CheckpointBudgetError);
          expect((e as CheckpointBudgetError).minimumBytes).toBeGreaterThan(budget);
          return;
        }
        scheduleItems(layers, segs); // throws on invalid segments
        const peak = predictPeakAct(layers, a, b, segs);
        expect(peak).toBeLessThanOrEqual(budget);
        const cost = recomputedLayers(segs);
        for (let k = 1; k <= layers; k++) {
          const alt = everySegments(layers, k);
          const altPeak = predictPeakAct(layers, a, b, alt);
          if (altPeak > budget) continue;
          expect(cost).toBeLessThanOrEqual(recomputedLayers(alt));
          if (cost === recomputedLayers(alt)) expect(peak).toBeLessThanOrEqual(altPeak);
        }
      }),
      { numRuns: 60 },
    );
  });
});
