import { describe, expect, it } from "vitest";
import { countParams, estimate } from "./estimator.js";
import { basePlan } from "./plan.js";
import { getPreset, PRESET_NAMES, PUBLISHED_ACTIVE } from "./presets.js";
import { parse } from "./registry.js";

describe("estimator: parameter counts of published presets", () => {
  for (const name of PRESET_NAMES) {
    const p = getPreset(name);
    if (!p.published) continue;
    const published = p.published;
    it(`${name}: derived from the architecture = published ${published.params.toLocaleString("en")}`, () => {
      const counts = countParams(
        basePlan(p.arch, { kind: "infer", batch: 1, seq: 1, generate: 0 }, { baseBytes: 2 }),
      );
      if (published.exact) expect(counts.total).toBe(published.params);
      // GPT-3's paper gives 175.0B; the architecture in its Table 2.1 gives 174.6B.
      else expect(Math.abs(counts.total - published.params) / published.params).toBeLessThan(0.005);
    });
  }

  it("mixtral-8x7b: active parameters per token = published 12.9B (top-2 of 8 experts)", () => {
    const e = estimate("mixtral-8x7b", parse("Baseline"), { kind: "infer", batch: 1, seq: 1, generate: 0 });
    expect(e.params.active).toBe(PUBLISHED_ACTIVE["mixtral-8x7b"]);
    expect(e.params.total).toBe(46_702_792_704);
  });

  it("llama2-70b at 4096 tokens: fp16 weights and an 8-KV-head cache", () => {
    const e = estimate("llama2-70b", parse("Baseline"), { kind: "infer", batch: 1, seq: 4096, generate: 0 });
    expect(e.bytes.weights).toBe(68_976_648_192 * 2);
    // 2 (K and V) · 80 layers · 8 heads · 128 dims · 2 bytes per token
    expect(e.bytes.kv).toBe(4096 * 2 * 80 * 8 * 128 * 2);
    expect(e.plan.arch.kvHeads).toBe(8);
  });

  it("training memory: fp16 grads and 12 bytes of optimizer state per parameter on published presets", () => {
    const e = estimate("llama2-7b", parse("Baseline"), { kind: "train", batch: 1, seq: 2048, generate: 0 });
    expect(e.bytes.grad).toBe(6_738_415_616 * 2);
    expect(e.bytes.optim).toBe(6_738_415_616 * 12);
    expect(e.bytes.act).toBeGreaterThan(0);
    expect(e.bytes.kv).toBe(0);
  });
});
