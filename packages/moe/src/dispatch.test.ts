import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { coefficientOfVariation, dispatchTokens, expertCapacity } from "./dispatch.js";

const routing = fc
  .record({
    N: fc.integer({ min: 1, max: 40 }),
    E: fc.integer({ min: 1, max: 8 }),
    k: fc.integer({ min: 1, max: 3 }),
  })
  .chain(({ N, E, k }) =>
    fc.record({
      N: fc.constant(N),
      E: fc.constant(E),
      k: fc.constant(k),
      indices: fc.array(fc.integer({ min: 0, max: E - 1 }), { minLength: N * k, maxLength: N * k }),
    }),
  );

describe("dispatchTokens", () => {
  it("with infinite capacity keeps every assignment, grouped by expert (property)", () => {
    fc.assert(
      fc.property(routing, ({ N, E, k, indices }) => {
        const d = dispatchTokens(Int32Array.from(indices), N, k, E, Number.POSITIVE_INFINITY);
        expect(d.dropped).toBe(0);
        expect(Array.from(d.kept)).toEqual(Array.from(d.routed));
        expect(d.tokenIds.length).toBe(N * k);
        expect(new Set(d.slotIds).size).toBe(N * k);
        for (let e = 0; e < E; e++) {
          for (let i = d.offsets[e]!; i < d.offsets[e + 1]!; i++) {
            expect(indices[d.slotIds[i]!]).toBe(e);
            expect(d.tokenIds[i]).toBe(Math.floor(d.slotIds[i]! / k));
          }
        }
      }),
    );
  });

  it("with capacity c never loads an expert beyond ⌈N·k/E·c⌉ and drops only the overflow (property)", () => {
    fc.assert(
      fc.property(routing, fc.double({ min: 0.05, max: 4, noNaN: true }), ({ N, E, k, indices }, c) => {
        const d = dispatchTokens(Int32Array.from(indices), N, k, E, c);
        const bound = Math.ceil(((N * k) / E) * c);
        expect(d.capacity).toBe(bound);
        let kept = 0;
        for (let e = 0; e < E; e++) {
          expect(d.kept[e]).toBeLessThanOrEqual(bound);
          expect(d.kept[e]).toBe(Math.min(d.routed[e]!, bound));
          expect(d.offsets[e + 1]! - d.offsets[e]!).toBe(d.kept[e]);
          kept += d.kept[e]!;
        }
        expect(d.dropped).toBe(N * k - kept);
      }),
    );
  });

  it("gives first choices priority over second choices when an expert overflows", () => {
    // 2 tokens, k=2, E=2; capacity ⌈2·2/2·0.5⌉ = 1 per expert.
    // token 0 → [1, 0]; token 1 → [0, 1]: first choices (t0→1, t1→0) fill both experts.
    const d = dispatchTokens(Int32Array.from([1, 0, 0, 1]), 2, 2, 2, 0.5);
    expect(d.capacity).toBe(1);
    expect(Array.from(d.slotIds)).toEqual([2, 0]);
    expect(d.dropped).toBe(2);
  });

  it("rejects a non-positive capacity and out-of-range expert ids with the value and the fix", () => {
    expect(() => expertCapacity(4, 2, 4, 0)).toThrow(/capacity factor must be > 0 or inf, got 0/);
    expect(() => dispatchTokens(Int32Array.from([0, 5]), 2, 1, 4, 1)).toThrow(
      /expert id 5 at 1 is outside \[0, 4\)/,
    );
    expect(() => dispatchTokens(Int32Array.from([0]), 2, 1, 4, 1)).toThrow(/1 choices for 2 tokens/);
  });
});

describe("coefficientOfVariation", () => {
  it("is 0 for a uniform load and std/mean otherwise", () => {
    expect(coefficientOfVariation([3, 3, 3])).toBe(0);
    expect(coefficientOfVariation([0, 0])).toBe(0);
    expect(coefficientOfVariation([0, 2])).toBeCloseTo(1, 12);
  });
});
