import { describe, expect, it } from "vitest";
import { ckpt } from "./ckpt.js";
import { describeSegments, exploreSchedules, formatScheduleTable } from "./explorer.js";
import { none } from "./none.js";

describe("schedule explorer", () => {
  const rows = exploreSchedules({
    layers: 16,
    layerActBytes: 1 << 20,
    layerInputBytes: 1 << 17,
    policies: [
      none(),
      ckpt({ every: 2 }),
      ckpt({ policy: "sqrt" }),
      ckpt({ policy: "all" }),
      ckpt({ budget: 8 << 20 }),
      ckpt({ budget: 1 << 20 }),
    ],
  });
  it("gives one row per policy with predicted peak, ratio to None and extra forward", () => {
    expect(rows.map((r) => r.policy)).toEqual([
      "None",
      "Ckpt[every=2]",
      "Ckpt[policy=sqrt]",
      "Ckpt[policy=all]",
      "Ckpt[budget=8MiB]",
      "Ckpt[budget=1MiB]",
    ]);
    expect(rows[0]).toMatchObject({ peakActBytes: 16 << 20, peakVsNone: 1, extraForward: 0 });
    // sqrt: 4 segments of 4: 3 kept inputs + 1 + 4 layers.
    expect(rows[2]).toMatchObject({ peakActBytes: 4 * (1 << 17) + 4 * (1 << 20), extraForward: 1 });
    expect(rows[4]!.peakActBytes).toBeLessThanOrEqual(8 << 20);
    expect(rows[4]!.extraForward).toBeLessThan(1);
    expect(rows[5]!.error).toMatch(/smallest feasible budget is \d+ bytes/);
    expect(Number.isNaN(rows[5]!.peakActBytes)).toBe(true);
  });
  it("formats a table with a line per policy and the infeasible budget's reason", () => {
    const t = formatScheduleTable(rows);
    const lines = t.split("\n");
    expect(lines[0]).toMatch(/^policy\s+segments\s+peak act\s+vs None\s+extra fwd$/);
    expect(lines).toHaveLength(2 + rows.length + 1);
    expect(t).toContain("4×4");
    expect(t).toContain("16.0 MiB");
    expect(t).toContain("infeasible");
  });
  it("summarises schedules", () => {
    expect(describeSegments(5, [])).toBe("none");
    expect(
      describeSegments(5, [
        [0, 1],
        [2, 3],
      ]),
    ).toBe("2×2 + 1 free");
    expect(describeSegments(7, [[0, 1, 2], [3, 4, 5], [6]])).toBe("2×3 + 1×1");
  });
});
