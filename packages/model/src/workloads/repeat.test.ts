import { describe, expect, it } from "vitest";
import { parse } from "../registry.js";
import { runInfer } from "./infer.js";
import { interleaved, isUnstable, mergeInfer, mergeTrain, spreadOf } from "./repeat.js";
import { runTrain } from "./train.js";

describe("repeated, interleaved timing", () => {
  it("warms every item up, then interleaves rounds A B C, B C A, rotated", () => {
    const order: string[] = [];
    const samples = interleaved(["A", "B", "C"], { repeats: 2, warmup: 1 }, (item, round) => {
      order.push(`${item}${round}`);
      return round;
    });
    expect(order).toEqual(["A-1", "B-1", "C-1", "A0", "B0", "C0", "B1", "C1", "A1"]);
    expect(samples).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
    expect(() => interleaved(["A"], { repeats: 0 }, () => 0)).toThrow(
      /repeats must be an integer in 1\.\.1000, got 0/,
    );
  });

  it("spread: median, range and count; wide spreads are flagged", () => {
    expect(spreadOf([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
    expect(spreadOf([2, Number.NaN, 4])).toEqual({ median: 3, min: 2, max: 4, n: 2 });
    expect(isUnstable(spreadOf([10, 10.5, 11]))).toBe(false);
    expect(isUnstable(spreadOf([10, 14, 20]))).toBe(true);
    expect(isUnstable(spreadOf([10]))).toBe(false);
  });

  it("merging real runs: medians beside every sample, bytes and tokens of the run", () => {
    const spec = { model: "tiny" as const, config: parse("Baseline"), seed: 3 };
    const runs = [0, 1, 2].map(() => runInfer(spec, { batch: 2, prompt: 8, generate: 4 }));
    const m = mergeInfer(runs);
    expect(m.samples?.prefillMs).toEqual(runs.map((r) => r.prefillMs));
    expect(m.prefillMs).toBe([...runs.map((r) => r.prefillMs)].sort((a, b) => a - b)[1]);
    expect(m.decodeTokensPerSec).toBeCloseTo(2 / (m.decodeMsPerStep / 1000), 6);
    expect(m.tokens).toEqual(runs[0]!.tokens);
    expect(m.peak).toEqual(runs[0]!.peak);
    const t = mergeTrain([0, 1, 2].map(() => runTrain(spec, { batch: 2, seq: 8, steps: 1 })));
    expect(t.samples?.stepMs).toHaveLength(3);
    expect(t.stepMs).toBe([...(t.samples?.stepMs ?? [])].sort((a, b) => a - b)[1]);
  });

  it("refuses to merge runs that decoded differently", () => {
    const spec = { model: "tiny" as const, config: parse("Baseline"), seed: 3 };
    const a = runInfer(spec, { batch: 1, prompt: 8, generate: 3 });
    expect(() => mergeInfer([a, { ...a, tokens: [1, 2, 3] }])).toThrow(/different tokens/);
  });
});
