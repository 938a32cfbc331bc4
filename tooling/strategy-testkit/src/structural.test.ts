import { describe, expect, it } from "vitest";
import { deepFreeze, snapshot, structuralDifferences } from "./structural.js";

describe("structuralDifferences (the purity check's comparison)", () => {
  it("sees a changed function behaviour that JSON.stringify drops", () => {
    const a = { cost: { saved: (s: { tq: number }) => s.tq * 2 }, n: 1 };
    const b = { cost: { saved: (s: { tq: number }) => s.tq * 3 }, n: 1 };
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(structuralDifferences(a, b).length).toBeGreaterThan(0);
  });

  it("treats fresh closures with equal behaviour as equal, numeric and shape-object probes alike", () => {
    const make = (k: number) => ({
      perToken: (t: number) => t * k,
      perShape: (s: { batch: number; heads: number }) => s.batch * s.heads * k,
      none: () => k,
    });
    expect(structuralDifferences(make(4), make(4))).toEqual([]);
    const diffs = structuralDifferences(make(4), make(5)).join("\n");
    for (const field of ["perToken(1)", "perShape({…})", "none()"]) expect(diffs).toContain(`plan.${field}`);
  });

  it("reports missing fields, arity changes and differing errors", () => {
    expect(structuralDifferences({ a: 1 }, { a: 1, b: 2 })).toEqual(["plan.b: missing vs present"]);
    expect(structuralDifferences({ f: (x: number) => x }, { f: (x: number, y: number) => x + y })).toEqual([
      "plan.f: function of 1 vs 2 arguments",
    ]);
    const thrower = (m: string) => (x: number) => {
      if (x > 10) throw new RangeError(m);
      return x;
    };
    expect(structuralDifferences({ f: thrower("a") }, { f: thrower("b") }).join()).toMatch(/threw/);
  });

  it("snapshot keeps function identity; deepFreeze reaches inside already-frozen objects", () => {
    const f = (x: number) => x;
    const inner = { n: 1 };
    const p = Object.freeze({ hook: f, inner });
    expect(snapshot(p).hook).toBe(f);
    deepFreeze(p);
    expect(Object.isFrozen(inner)).toBe(true);
  });
});
