import { BUSY_CORES, type MachineLoad, type TrainResult } from "@tradeoffs/model";
import { describe, expect, it } from "vitest";
import type { CompareRow } from "./run.js";
import { timingNotes } from "./timing.js";

/** A row whose train step times are `stepMs` (only the fields the notes read). */
function trainRow(config: string, stepMs: number[]): CompareRow {
  const sorted = [...stepMs].sort((a, b) => a - b);
  const train = { stepMs: sorted[sorted.length >> 1]!, samples: { stepMs } } as unknown as TrainResult;
  return { config, train };
}

const quiet: MachineLoad = { otherCores: 0.03, cores: 2, seconds: 9.1 };
const busy: MachineLoad = { otherCores: 1.2, cores: 2, seconds: 9.1 };

describe("timingNotes", () => {
  const steady = trainRow("Steady", [100, 101, 99]);
  const noisy = trainRow("Noisy", [80, 100, 140]);

  it("names the machine's load under the times, and no wide spread when there is none", () => {
    const notes = timingNotes([steady], quiet);
    expect(notes).toContain("machine: other processes used 0.03 of 2 cores over the 9.1 s of measuring");
    expect(notes.some((n) => n.startsWith("wide spread"))).toBe(false);
  });

  it("blames a wide spread on the machine only when other processes took a share of it", () => {
    const onQuiet = timingNotes([steady, noisy], quiet).find((n) => n.startsWith("wide spread"));
    expect(onQuiet).toContain("Noisy (train)");
    expect(onQuiet).not.toContain("Steady");
    expect(onQuiet).toContain("no other process here was busy");
    const onBusy = timingNotes([steady, noisy], busy).find((n) => n.startsWith("wide spread"));
    expect(onBusy).toContain("the machine was busy");
    // at the threshold the machine counts as busy
    const edge = timingNotes([noisy], { ...quiet, otherCores: BUSY_CORES }).find((n) => n.startsWith("wide"));
    expect(edge).toContain("busy");
  });

  it("without a measured load names both causes and prints no machine line", () => {
    const notes = timingNotes([noisy]);
    expect(notes.some((n) => n.startsWith("machine:"))).toBe(false);
    expect(notes.find((n) => n.startsWith("wide spread"))).toContain("a busy machine or a noisy workload");
  });

  it("says how many warm-ups preceded the timed runs, and that a cold first run includes start-up", () => {
    const times = (w: number) => timingNotes([steady], quiet, w).find((n) => n.startsWith("times:"));
    expect(times(1)).toContain("after a warm-up of each");
    expect(times(3)).toContain("after 3 warm-ups of each");
    expect(times(0)).toContain("with no warm-up");
    const cold = (rows: CompareRow[], w: number) =>
      timingNotes(rows, quiet, w).some((n) => n.startsWith("no warm-up"));
    expect(cold([steady], 0)).toBe(true);
    expect(cold([trainRow("Once", [100])], 0)).toBe(true);
    expect(cold([steady], 1)).toBe(false);
  });
});
