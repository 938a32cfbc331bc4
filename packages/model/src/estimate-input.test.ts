import { ConfigError } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { estimate } from "./estimator.js";
import { getPreset } from "./presets.js";
import { parse } from "./registry.js";

const infer = { kind: "infer", batch: 1, seq: 128, generate: 16 } as const;

describe("estimator input: bounded and validated before any work", () => {
  it("rejects negative, fractional and non-numeric workload sizes, naming each", () => {
    const bad = { kind: "infer", batch: 0, seq: 1.5, generate: -3000 } as const;
    try {
      estimate("llama2-7b", parse("Baseline"), bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join("\n");
      expect(problems).toMatch(/batch must be an integer in 1\.\.\d+, got 0/);
      expect(problems).toMatch(/prompt \(seq\) must be an integer .* got 1\.5/);
      expect(problems).toMatch(/generate must be an integer in 0\.\.\d+, got -3000/);
    }
    expect(() => estimate("llama2-7b", parse("Baseline"), { ...infer, generate: Number.NaN })).toThrow(
      /generate must be an integer .* got NaN/,
    );
  });

  it("rejects absurd architectures in milliseconds instead of exhausting the heap", () => {
    const arch = { ...getPreset("llama2-7b").arch, layers: 1e8 };
    const t0 = performance.now();
    expect(() => estimate(arch, parse("Ckpt[every=1]"), { ...infer, kind: "train" })).toThrow(
      /layers must be an integer in 1\.\.10000, got 100000000/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(() => estimate({ ...arch, layers: 32, kvHeads: 3 }, parse("Baseline"), infer)).toThrow(
      /kvHeads \(3\) must divide heads \(32\)/,
    );
  });

  it("accepts every published preset at its own context length", () => {
    for (const name of ["gpt3-175b", "llama2-70b", "mixtral-8x7b"] as const) {
      const arch = getPreset(name).arch;
      const e = estimate(name, parse("Baseline"), { kind: "infer", batch: 8, seq: arch.maxSeq, generate: 0 });
      expect(e.bytes.kv).toBeGreaterThan(0);
    }
  });
});
