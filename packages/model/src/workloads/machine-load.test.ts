import { cpus } from "node:os";
import { describe, expect, it } from "vitest";
import { BUSY_CORES, loadText, startLoadProbe } from "./machine-load.js";

describe("startLoadProbe", () => {
  it("counts this process's own CPU time as its own, not another process's", () => {
    const stop = startLoadProbe();
    // Keep this thread busy for a while: it is this process's time.
    const until = performance.now() + 150;
    let spin = 0;
    while (performance.now() < until) spin++;
    const load = stop()!;
    expect(spin).toBeGreaterThan(0);
    expect(load.cores).toBe(cpus().length);
    expect(load.seconds).toBeGreaterThanOrEqual(0.15);
    expect(load.otherCores).toBeGreaterThanOrEqual(0);
    expect(load.otherCores).toBeLessThanOrEqual(load.cores);
  });

  it("reads one line, to two decimals of a core", () => {
    expect(loadText({ otherCores: 0.034, cores: 2, seconds: 9.14 })).toBe(
      "other processes used 0.03 of 2 cores over the 9.1 s of measuring",
    );
    expect(BUSY_CORES).toBeGreaterThan(0);
  });
});
