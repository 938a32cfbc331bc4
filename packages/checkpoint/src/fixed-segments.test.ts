import { ValueError } from "@tradeoffs/core-tensor";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allSegments, everySegments, sqrtEvery, sqrtSegments } from "./fixed-segments.js";
import { predictPeakAct, recomputeFactor, scheduleItems } from "./memory-model.js";

describe("fixed segment schedules", () => {
  it("every=k cuts runs of k layers, the last one shorter", () => {
    expect(everySegments(5, 2)).toEqual([[0, 1], [2, 3], [4]]);
    expect(everySegments(3, 8)).toEqual([[0, 1, 2]]);
    expect(everySegments(0, 2)).toEqual([]);
  });
  it("all is every=1; sqrt uses round(√L)", () => {
    expect(allSegments(3)).toEqual([[0], [1], [2]]);
    expect(sqrtEvery(16)).toBe(4);
    expect(sqrtEvery(32)).toBe(6);
    expect(sqrtEvery(1)).toBe(1);
    expect(sqrtSegments(9)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
  });
  it("rejects k < 1 with a ValueError naming the value", () => {
    expect(() => everySegments(4, 0)).toThrow(ValueError);
    expect(() => everySegments(4, 1.5)).toThrow(/got 1.5/);
  });
  it("property: every schedule covers all layers with valid segments and recomputes each once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 40 }), (L, k) => {
        for (const segs of [everySegments(L, k), sqrtSegments(L), allSegments(L)]) {
          expect(scheduleItems(L, segs).every((it) => it.kind === "segment")).toBe(true);
          expect(recomputeFactor(L, segs)).toBe(L === 0 ? 0 : 1);
        }
      }),
    );
  });
  it("property: sqrt keeps peak act within 2√L/L of None plus one layer (b ≤ a)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 1000 }), (L, b) => {
        const a = 8 * b;
        const peak = predictPeakAct(L, a, b, sqrtSegments(L));
        const none = predictPeakAct(L, a, b, []);
        expect(peak).toBeLessThanOrEqual((2 * Math.sqrt(L) * none) / L + a);
      }),
    );
  });
});
