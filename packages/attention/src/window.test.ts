import { ConfigError, parseConfig, Rng, randn } from "@tradeoffs/core-tensor";
import { expectClose, sampleArch, samplePlan } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { FLASH_FP32_TOL, flash } from "./flash.js";
import { attentionStrategies } from "./registry.js";
import { standard, standardAttention } from "./standard.js";

const parse = (s: string) => parseConfig(s, attentionStrategies);

describe("the window option of attention strategies", () => {
  it("parses, labels canonically, and round-trips", () => {
    expect(parse("Standard[window=4096]").label).toBe("Standard[window=4096]");
    expect(parse("standard").label).toBe("Standard");
    expect(parse("Flash[window=16]").label).toBe("Flash[block=64,window=16]");
    expect(parse("Flash[window=0]").label).toBe("Flash[block=64]");
    expect(standard({ window: 8 }).options.window).toBe(8);
  });

  it("rejects a bad window with a typed error naming the value and the range", () => {
    for (const [text, bad] of [
      ["Standard[window=-3]", "-3"],
      ["Flash[window=1.5]", "1.5"],
      ["Standard[window=wide]", "wide"],
    ] as const) {
      let err: unknown;
      try {
        parse(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(`option 'window'`);
      expect((err as Error).message).toContain(`'${bad}'`);
      expect((err as Error).message).toContain("0..");
    }
    expect(() => standard({ windw: 4 } as never)).toThrow(/did you mean 'window'/);
  });

  it("sets the plan's arch.window, and 0 keeps the model's own (a preset's published window)", () => {
    expect(standard({ window: 12 }).plan(samplePlan()).arch.window).toBe(12);
    expect(flash({ window: 12 }).plan(samplePlan()).arch.window).toBe(12);
    const mistralLike = samplePlan(sampleArch({ window: 4096 }));
    expect(standard().plan(mistralLike).arch.window).toBe(4096);
    expect(flash().plan(mistralLike).arch.window).toBe(4096);
    expect(standard().plan(samplePlan()).arch.window).toBeUndefined();
    expect(flash({ window: 8 }).plan(mistralLike).arch.window).toBe(8);
  });

  it("Flash's cost counts at most window + one key block per query; Standard still scores every key", () => {
    const w = flash({ block: 16, window: 100 }).plan(samplePlan()).attention;
    expect(w.keysPerQuery(1, 5000)).toBe(100);
    expect(w.keysPerQuery(1, 50)).toBe(50);
    expect(w.keysPerQuery(4096, 4096)).toBe(116);
    const full = flash({ block: 16 }).plan(samplePlan()).attention;
    expect(full.keysPerQuery(4096, 4096)).toBeGreaterThan(2000);
    expect(standard({ window: 100 }).plan(samplePlan()).attention.keysPerQuery(4096, 4096)).toBe(4096);
  });

  it("exec masks to the strategy's window when the call sets none, and a call's own window wins", () => {
    const rng = new Rng(3);
    const q = randn([1, 2, 9, 4], rng);
    const k = randn([1, 2, 9, 4], rng);
    const v = randn([1, 2, 9, 4], rng);
    const want3 = standardAttention(q, k, v, { causal: true, window: 3 });
    const want5 = standardAttention(q, k, v, { causal: true, window: 5 });
    const full = standardAttention(q, k, v, { causal: true });
    for (const s of [standard({ window: 3 }), flash({ block: 4, window: 3 })]) {
      const got = s.exec.attend(q, k, v, { causal: true });
      expectClose(got, want3, FLASH_FP32_TOL);
      const own = s.exec.attend(q, k, v, { causal: true, window: 5 });
      expectClose(own, want5, FLASH_FP32_TOL);
      got.dispose();
      own.dispose();
    }
    // The window matters here: the full causal result differs beyond the tolerance.
    expect(Math.max(...full.data.map((x, i) => Math.abs(x - want3.data[i]!)))).toBeGreaterThan(1e-2);
    for (const t of [q, k, v, want3, want5, full]) t.dispose();
  });
});
