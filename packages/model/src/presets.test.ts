import { describe, expect, it } from "vitest";
import { countParams } from "./estimator.js";
import { basePlan } from "./plan.js";
import { getPreset, PRESET_NAMES, PUBLISHED_ACTIVE } from "./presets.js";

const counts = (name: string) =>
  countParams(
    basePlan(getPreset(name).arch, { kind: "infer", batch: 1, seq: 1, generate: 0 }, { baseBytes: 2 }),
  );

describe("published presets: the estimator's count against the published total", () => {
  const published = PRESET_NAMES.filter((n) => getPreset(n).published);

  it("cover the families: Qwen2.5, Qwen-MoE, Gemma 2, Mixtral-8x22B, DeepSeek-MoE, DeepSeek-V2-Lite", () => {
    expect(published).toEqual(
      expect.arrayContaining([
        "qwen2.5-7b",
        "qwen1.5-moe-a2.7b",
        "gemma2-9b",
        "mixtral-8x22b",
        "deepseek-moe-16b",
        "deepseek-v2-lite",
      ]),
    );
  });

  for (const name of published) {
    const p = getPreset(name);
    it(`${name}: ${p.published?.exact ? "exactly" : "within the rounding of"} ${p.published?.params.toLocaleString("en")}`, () => {
      const total = counts(name).total + (p.modelled?.missingParams ?? 0);
      const pub = p.published?.params ?? Number.NaN;
      if (p.published?.exact) expect(total).toBe(pub);
      else expect(Math.abs(total - pub) / pub).toBeLessThan(0.005);
    });
  }

  it("only GPT-3 (rounded in its paper) and DeepSeek-MoE-16B (rounded on its card) are not exact", () => {
    expect(published.filter((n) => !getPreset(n).published?.exact)).toEqual([
      "gpt3-175b",
      "deepseek-moe-16b",
    ]);
    expect(counts("deepseek-moe-16b").total).toBe(16_375_728_128);
  });

  it("no published preset leaves parameters uncounted", () => {
    expect(published.filter((n) => getPreset(n).modelled)).toEqual([]);
  });

  it("active parameters: the published figures exactly, and the MoE families by hand", () => {
    for (const [name, active] of Object.entries(PUBLISHED_ACTIVE)) expect(counts(name).active).toBe(active);
    // DeepSeek-V2-Lite: MLA attention in 27 layers, the dense first layer, 26 MoE layers of 6 routed
    // + 2 shared experts and a router, embeddings, 2 norms per layer and the final one.
    const mla = 2048 * 16 * 192 + 2048 * 576 + 512 + 512 * 16 * 256 + 16 * 128 * 2048;
    const expert = 3 * 2048 * 1408;
    const v2 = counts("deepseek-v2-lite");
    expect(v2.active).toBe(
      27 * mla + 3 * 2048 * 10944 + 26 * (8 * expert + 64 * 2048) + 2 * 102400 * 2048 + (2 * 27 + 1) * 2048,
    );
    // "2.4B activated" (DeepSeek-V2 paper) is this count less the input embedding, truncated.
    expect(v2.active - 102400 * 2048).toBeGreaterThan(2.4e9);
    expect(v2.active - 102400 * 2048).toBeLessThan(2.5e9);
  });
});
