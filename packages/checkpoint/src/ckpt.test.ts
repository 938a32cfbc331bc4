import { ConfigError, parseConfig, type Registry } from "@tradeoffs/core-tensor";
import { samplePlan } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { budgetSegments } from "./budget.js";
import { type CkptOptions, ckpt, ckptPolicy } from "./ckpt.js";
import { everySegments, sqrtSegments } from "./fixed-segments.js";
import { predictPeakAct } from "./memory-model.js";
import { checkpointStrategies } from "./registry.js";

const registry: Registry = checkpointStrategies;

describe("Ckpt configuration strings", () => {
  it("parses every policy and labels it canonically", () => {
    const cases: [string, string, string][] = [
      ["Ckpt[sqrt]", "Ckpt[policy=sqrt]", "sqrt"],
      ["Ckpt", "Ckpt", "sqrt"],
      ["ckpt[all]", "Ckpt[policy=all]", "all"],
      ["Ckpt[every=2]", "Ckpt[every=2]", "every"],
      ["Ckpt[budget=64MiB]", "Ckpt[budget=64MiB]", "budget"],
      ["Ckpt[budget=1000000]", "Ckpt[budget=1000000]", "budget"],
    ];
    for (const [text, label, kind] of cases) {
      const cfg = parseConfig(text, registry);
      expect(cfg.label).toBe(label);
      expect(ckptPolicy(cfg.strategies[0]!.options as CkptOptions)).toBe(kind);
    }
  });
  it("reports conflicting or missing policy options, all at once", () => {
    expect(() => parseConfig("Ckpt[every=2,budget=1MiB]", registry)).toThrow(/not both/);
    expect(() => parseConfig("Ckpt[every]", registry)).toThrow(/Ckpt\[every=k\]/);
    expect(() => parseConfig("Ckpt[budget]", registry)).toThrow(/Ckpt\[budget=64MiB\]/);
    expect(() => parseConfig("Ckpt[sqrt,every=3]", registry)).toThrow(/takes no every=/);
    expect(() => parseConfig("Ckpt[every=-1]", registry)).toThrow(ConfigError);
    expect(() => parseConfig("Ckpt[lots]", registry)).toThrow(/one of auto, sqrt, all, every, budget/);
  });
});

describe("Ckpt plan and exec share one schedule", () => {
  const p = samplePlan({ ...samplePlan().arch, layers: 16 });
  it("sets a segments function equal to the exec's, and the memory model's peak", () => {
    const s = ckpt({ every: 4 });
    const q = s.plan(p);
    expect(q.checkpoint.segments(16, 100, 10)).toEqual(s.exec.segments(16, 100, 10));
    expect(q.checkpoint.segments(16, 100, 10)).toEqual(everySegments(16, 4));
    expect(q.checkpoint.peakAct(16, 100, 10, everySegments(16, 4))).toBe(
      predictPeakAct(16, 100, 10, everySegments(16, 4)),
    );
    expect(ckpt({ policy: "sqrt" }).plan(p).checkpoint.segments(16, 1, 1)).toEqual(everySegments(16, 4));
    expect(ckpt({ policy: "sqrt" }).exec.segments(16, 1, 1)).toEqual(sqrtSegments(16));
    expect(ckpt({ policy: "all" }).plan(p).checkpoint.segments(16, 1, 1)).toEqual(everySegments(16, 1));
  });
  it("budget: plan and exec give the DP schedule from the real byte sizes", () => {
    const s = ckpt({ budget: 800 });
    const q = s.plan(p);
    expect(q.checkpoint.segments(16, 100, 10)).toEqual(budgetSegments(16, 100, 10, 800));
    // The schedule depends on the sizes: with 1-byte layers the budget needs no checkpointing.
    expect(q.checkpoint.segments(16, 1, 1)).toEqual(budgetSegments(16, 1, 1, 800));
    expect(q.checkpoint.segments(16, 1, 1)).not.toEqual(q.checkpoint.segments(16, 100, 10));
    expect(s.exec.segments(16, 100, 10)).toEqual(budgetSegments(16, 100, 10, 800));
  });
});
