import { ValueError } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { predictPeakAct, recomputeFactor, scheduleItems } from "./memory-model.js";

describe("scheduleItems", () => {
  it("fills the free layers between segments", () => {
    expect(scheduleItems(5, [[1, 2], [4]])).toEqual([
      { kind: "free", start: 0, end: 1 },
      { kind: "segment", start: 1, end: 3 },
      { kind: "free", start: 3, end: 4 },
      { kind: "segment", start: 4, end: 5 },
    ]);
  });
  it("rejects overlapping, unordered, gapped, empty or out-of-range segments with a ValueError", () => {
    for (const bad of [[[0, 1], [1]], [[2], [0]], [[0, 2]], [[]], [[3, 4, 5]]]) {
      expect(() => scheduleItems(5, bad)).toThrow(ValueError);
    }
    expect(() => scheduleItems(5, [[3, 4, 5]])).toThrow(/segment 0 \[3,4,5\].*\[0, 5\)/);
  });
});

describe("predictPeakAct", () => {
  // a = 10 bytes saved per layer, b = 1 byte per layer input.
  it("is Σ a without checkpointing", () => {
    expect(predictPeakAct(6, 10, 1, [])).toBe(60);
  });
  it("is the kept inputs before a segment + its input + its recomputed layers", () => {
    // every=2 over 6 layers: the last segment peaks at 2 kept inputs + 1 + 2·10.
    expect(
      predictPeakAct(6, 10, 1, [
        [0, 1],
        [2, 3],
        [4, 5],
      ]),
    ).toBe(23);
    // all: 5 + 1 + 10.
    expect(predictPeakAct(6, 10, 1, [[0], [1], [2], [3], [4], [5]])).toBe(16);
  });
  it("counts free layers before a segment in full, and after it on top of the kept inputs", () => {
    // free 0 (10) then segment [1..3] (1 + 30) → 41; then free 4, 5 → 10 + 1 + 20 = 31.
    expect(predictPeakAct(6, 10, 1, [[1, 2, 3]])).toBe(41);
    expect(predictPeakAct(6, 10, 1, [[0, 1, 2, 3]])).toBe(41);
    expect(predictPeakAct(6, 10, 1, [[0, 1, 2]])).toBe(31);
  });
  it("takes per-layer byte arrays", () => {
    expect(predictPeakAct(3, [1, 2, 30], [5, 5, 5], [[0, 1]])).toBe(35); // seg [0,1]: 5 + 3; free 2: 5 + 30;
  });
});

describe("recomputeFactor", () => {
  it("is the fraction of layers that run forward twice", () => {
    expect(recomputeFactor(8, [])).toBe(0);
    expect(
      recomputeFactor(8, [
        [0, 1],
        [2, 3],
      ]),
    ).toBe(0.5);
    expect(recomputeFactor(8, [[0], [1], [2], [3], [4], [5], [6], [7]])).toBe(1);
    expect(recomputeFactor(0, [])).toBe(0);
  });
});
