import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, FormatError, ValueError } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { countParams } from "./estimator.js";
import { archFromHfConfig, HF_FAMILIES, hfModelFromConfig, readHfConfig } from "./hf-config.js";
import { basePlan } from "./plan.js";
import { getPreset } from "./presets.js";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/hf/", import.meta.url));
const fixture = (name: string) => readHfConfig(join(FIXTURES, name, "config.json"));
const readJson = (name: string) =>
  JSON.parse(readFileSync(join(FIXTURES, name, "config.json"), "utf8")) as Record<string, unknown>;
const counts = (arch: Parameters<typeof basePlan>[0]) =>
  countParams(basePlan(arch, { kind: "infer", batch: 1, seq: 1, generate: 0 }, { baseBytes: 2 }));

// Published totals (Hub safetensors metadata unless marked; sources in test/fixtures/hf/README.md).
const PUBLISHED: Record<string, { params: number; exact: boolean }> = {
  "qwen2.5-7b": { params: 7_615_616_512, exact: true },
  "qwen2.5-0.5b": { params: 494_032_768, exact: true },
  "gemma-7b": { params: 8_537_680_896, exact: true },
  "gemma-2-9b": { params: 9_241_705_984, exact: true },
  "phi-3-mini-4k": { params: 3_821_079_552, exact: true },
  "mixtral-8x22b": { params: 140_620_634_112, exact: true },
  "qwen1.5-moe-a2.7b": { params: 14_315_784_192, exact: true },
  // The model card's "16.4B" (rounded); no exact figure is published.
  "deepseek-moe-16b": { params: 16.4e9, exact: false },
  "deepseek-v2-lite": { params: 15_706_484_224, exact: true },
};

describe("config.json families: the estimator's count = the published total, with no gaps", () => {
  for (const [name, pub] of Object.entries(PUBLISHED)) {
    it(`${name}: ${pub.params.toLocaleString("en")}${pub.exact ? "" : " (rounded)"}`, () => {
      const m = fixture(name);
      expect(m.arch.name).toBe(name);
      expect(m.missingParams).toBe(0);
      expect(m.notes.some((n) => /not counted|over-counted/.test(n))).toBe(false);
      const total = counts(m.arch).total;
      if (pub.exact) expect(total).toBe(pub.params);
      else expect(Math.abs(total - pub.params) / pub.params).toBeLessThan(0.005);
    });
  }

  it("published presets of these families match their config.json architecture field for field", () => {
    const pairs = [
      ["qwen2.5-7b", "qwen2.5-7b"],
      ["qwen2.5-0.5b", "qwen2.5-0.5b"],
      ["gemma-7b", "gemma-7b"],
      ["gemma-2-9b", "gemma2-9b"],
      ["phi-3-mini-4k", "phi3-mini-4k"],
      ["mixtral-8x22b", "mixtral-8x22b"],
      ["qwen1.5-moe-a2.7b", "qwen1.5-moe-a2.7b"],
      ["deepseek-moe-16b", "deepseek-moe-16b"],
      ["deepseek-v2-lite", "deepseek-v2-lite"],
    ] as const;
    for (const [file, preset] of pairs) {
      const p = getPreset(preset);
      const m = fixture(file);
      expect({ ...m.arch, name: preset }).toEqual({ ...p.arch, window: p.arch.window });
      expect(p.modelled).toBeUndefined();
    }
  });
});

describe("config.json families: what each reads", () => {
  it("qwen2: q/k/v biases counted (and no others); small sizes tie the embeddings", () => {
    const small = fixture("qwen2.5-0.5b");
    expect(small.arch.tiedEmbeddings).toBe(true);
    expect([small.arch.biases, small.arch.qkvBias]).toEqual([false, true]);
    // 24 layers · (14 + 2·2 heads) · 64 dims of bias
    expect(counts(small.arch).total - counts({ ...small.arch, qkvBias: false }).total).toBe(24 * 18 * 64);
    expect(fixture("qwen2.5-7b").arch.tiedEmbeddings).toBe(false);
    // use_sliding_window (off in the released configs) slides the layers from max_window_layers up.
    expect(small.arch.window).toBeUndefined();
    const sliding = hfModelFromConfig({
      ...readJson("qwen2.5-0.5b"),
      use_sliding_window: true,
      sliding_window: 4096,
      max_window_layers: 20,
    });
    expect([sliding.arch.window, sliding.arch.windowLayers]).toEqual([4096, 4]);
  });

  it("gemma: head_dim is read, not derived from the width; embeddings tied by default", () => {
    const g = fixture("gemma-7b");
    expect(g.arch.headDim).toBe(256);
    expect(g.arch.dModel / g.arch.heads).toBe(192);
    expect(g.arch.tiedEmbeddings).toBe(true);
    expect(g.notes.join("\n")).toMatch(/GeGLU/);
    const g2 = fixture("gemma-2-9b");
    expect(g2.arch.kvHeads).toBe(8);
    // Even layers slide over 4096 tokens, odd ones attend globally; four norms per layer.
    expect([g2.arch.window, g2.arch.windowLayers, g2.arch.layerNorms]).toEqual([4096, 21, 4]);
    expect(g2.arch.logitSoftcap).toEqual({ attention: 50, final: 30 });
    expect(counts(g2.arch).total - counts({ ...g2.arch, layerNorms: 2 }).total).toBe(2 * 42 * 3584);
  });

  it("phi3: fused checkpoint names, Llama's count; the config's 2047-token window is kept", () => {
    const p = fixture("phi-3-mini-4k");
    expect(p.arch.window).toBe(2047);
    expect(p.notes.join("\n")).toMatch(/qkv_proj/);
  });

  it("mixtral-8x22b: active parameters = attention + 2 of 8 experts + router (published 39B)", () => {
    const m = fixture("mixtral-8x22b");
    expect([m.arch.experts, m.arch.topK]).toEqual([8, 2]);
    expect(counts(m.arch).active).toBe(39_152_031_744);
  });

  it("qwen-moe and deepseek: fine-grained routed experts plus shared experts", () => {
    const q = fixture("qwen1.5-moe-a2.7b").arch;
    expect([q.experts, q.topK, q.sharedExperts, q.ffnHidden]).toEqual([60, 4, 4, 1408]);
    expect([q.sharedExpertGate, q.qkvBias, q.denseLayers]).toEqual([true, true, undefined]);
    // A shared gate per MoE layer: d → 1.
    expect(counts(q).total - counts({ ...q, sharedExpertGate: false }).total).toBe(24 * 2048);
    const d = fixture("deepseek-moe-16b");
    expect([d.arch.experts, d.arch.topK, d.arch.sharedExperts, d.arch.ffnHidden]).toEqual([64, 6, 2, 1408]);
    // Layer 0 is dense (10944 wide) in place of 66 experts of 1408 and the router.
    expect([d.arch.denseLayers, d.arch.denseFfnHidden]).toEqual([1, 10944]);
    expect(counts(d.arch).total - counts({ ...d.arch, denseLayers: 0 }).total).toBe(
      3 * 2048 * 10944 - (66 * 3 * 2048 * 1408 + 2048 * 64),
    );
    // moe_layer_freq 2 makes the 14 odd layers dense too: 1 + 14 of 28.
    const freq2 = hfModelFromConfig({ ...readJson("deepseek-moe-16b"), moe_layer_freq: 2 });
    expect(freq2.arch.denseLayers).toBe(1 + 14);
  });

  it("deepseek_v2: MLA read into ArchSpec.mla; headDim is v_head_dim", () => {
    const m = fixture("deepseek-v2-lite");
    expect(m.arch.headDim).toBe(128);
    expect(m.arch.mla).toEqual({ kvLoraRank: 512, qLoraRank: undefined, ropeHeadDim: 64, nopeHeadDim: 128 });
    // Per layer: q 2048→16·192, kv_a 2048→512+64, its norm 512, kv_b 512→16·(128+128), o 16·128→2048.
    const attention = 2048 * 16 * 192 + 2048 * 576 + 512 + 512 * 16 * 256 + 16 * 128 * 2048;
    expect(counts(m.arch).attention).toBe(27 * attention);
    // With a q_lora_rank (DeepSeek-V2 itself: 1536): q_a, its norm, q_b in place of q.
    const v2 = hfModelFromConfig({ ...readJson("deepseek-v2-lite"), q_lora_rank: 1536 });
    const q = 2048 * 1536 + 1536 + 1536 * 16 * 192;
    expect(counts(v2.arch).attention).toBe(27 * (attention - 2048 * 16 * 192 + q));
  });

  it("names a folder's config.json after the folder and a loose file after itself", () => {
    const dir = mkdtempSync(join(tmpdir(), "hf-"));
    const file = join(dir, "my-model.json");
    writeFileSync(
      file,
      JSON.stringify({ model_type: "gpt2", n_embd: 64, n_head: 4, n_layer: 2, vocab_size: 100 }),
    );
    expect(readHfConfig(file).arch.name).toBe("my-model");
    expect(readHfConfig(file).arch.ffnHidden).toBe(256);
  });
});

const llama = {
  model_type: "llama",
  hidden_size: 4096,
  intermediate_size: 11008,
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 32,
  vocab_size: 32000,
  max_position_embeddings: 4096,
};

function problems(config: Record<string, unknown>): string[] {
  try {
    hfModelFromConfig(config);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

describe("config.json: bad input gets one typed error naming each field and its valid range", () => {
  it("Llama-2-7B's config gives the preset's architecture (the reference for the cases below)", () => {
    expect({ ...archFromHfConfig(llama), name: "llama2-7b" }).toEqual({
      ...getPreset("llama2-7b").arch,
      normEps: 1e-6,
      window: undefined,
    });
  });

  it("KV heads above the heads, or not dividing them", () => {
    expect(problems({ ...llama, num_key_value_heads: 40 })).toEqual([
      "config.json: num_key_value_heads (40) must be in 1..num_attention_heads (32)",
    ]);
    expect(problems({ ...llama, num_key_value_heads: 3 })[0]).toMatch(
      /num_key_value_heads \(3\) must divide num_attention_heads \(32\)/,
    );
  });

  it("top-k above the expert count", () => {
    const mixtral = { ...llama, model_type: "mixtral", num_local_experts: 8, num_experts_per_tok: 9 };
    expect(problems(mixtral)).toEqual([
      "config.json: num_experts_per_tok (9) must be in 1..num_local_experts (8)",
    ]);
    const qwen = {
      ...llama,
      model_type: "qwen2_moe",
      num_experts: 4,
      num_experts_per_tok: 5,
      moe_intermediate_size: 8,
    };
    expect(problems(qwen)).toEqual(["config.json: num_experts_per_tok (5) must be in 1..num_experts (4)"]);
  });

  it("a non-integer head size", () => {
    expect(problems({ ...llama, hidden_size: 4097 })).toEqual([
      "config.json: hidden_size (4097) / num_attention_heads (32) = 128.03 is not an integer head size; give head_dim or heads that divide hidden_size",
    ]);
    // An explicit head_dim decouples the head size from the width (Gemma).
    expect(archFromHfConfig({ ...llama, hidden_size: 4097, head_dim: 128 }).headDim).toBe(128);
    expect(problems({ ...llama, head_dim: 1.5 })).toEqual([
      "config.json: head_dim must be an integer in 1..65536, got 1.5",
    ]);
  });

  it("absurd sizes: 10^8 layers, a vocabulary of 10^12", () => {
    expect(problems({ ...llama, num_hidden_layers: 1e8, vocab_size: 1e12 })).toEqual([
      "config.json: num_hidden_layers must be an integer in 1..10000, got 100000000",
      "config.json: vocab_size must be an integer in 1..16777216, got 1000000000000",
    ]);
  });

  it("negative, non-numeric and missing fields, all in one error", () => {
    const bad = {
      ...llama,
      hidden_size: -4096,
      num_attention_heads: "32",
      intermediate_size: undefined,
      rope_theta: -1,
    };
    expect(problems(bad)).toEqual([
      "config.json: hidden_size must be an integer in 1..1048576, got -4096",
      'config.json: num_attention_heads must be an integer in 1..65536, got "32"',
      "config.json: rope_theta must be a positive number, got -1",
      "config.json: intermediate_size must be an integer in 1..16777216, got nothing",
    ]);
    expect(problems({ ...llama, tie_word_embeddings: "yes" })).toEqual([
      'config.json: tie_word_embeddings must be true or false, got "yes"',
    ]);
  });

  it("deepseek_v2 and qwen2_moe fields are checked like the rest", () => {
    const v2 = hfModelFromConfig({
      ...llama,
      model_type: "deepseek_v2",
      n_routed_experts: 8,
      num_experts_per_tok: 2,
      moe_intermediate_size: 64,
      kv_lora_rank: 32,
      qk_nope_head_dim: 16,
      qk_rope_head_dim: 8,
      v_head_dim: 16,
    });
    expect(v2.arch.headDim).toBe(16);
    expect(() =>
      hfModelFromConfig({ ...llama, model_type: "deepseek_v2", n_routed_experts: 8, num_experts_per_tok: 2 }),
    ).toThrow(/kv_lora_rank must be an integer in 1\.\.\d+, got nothing[\s\S]*moe_intermediate_size must be/);
  });

  it("an unsupported family names the supported ones", () => {
    for (const model_type of ["bert", undefined, 7]) {
      try {
        hfModelFromConfig({ ...llama, model_type });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ValueError);
        expect((e as Error).message).toMatch(`supported families: ${HF_FAMILIES.join(", ")}`);
      }
    }
    expect(HF_FAMILIES).toEqual(
      expect.arrayContaining(["qwen2", "qwen2_moe", "gemma", "gemma2", "phi3", "deepseek_v2"]),
    );
  });

  it("a file that is missing, not JSON, or not an object", () => {
    const dir = mkdtempSync(join(tmpdir(), "hf-"));
    expect(() => readHfConfig(join(dir, "absent.json"))).toThrow(ValueError);
    const notJson = join(dir, "a.json");
    writeFileSync(notJson, "{ hidden_size: 1");
    expect(() => readHfConfig(notJson)).toThrow(FormatError);
    const list = join(dir, "b.json");
    writeFileSync(list, "[1, 2]");
    expect(() => readHfConfig(list)).toThrow(/must hold a JSON object/);
    // Errors from a file name the file.
    const bad = join(dir, "c.json");
    writeFileSync(bad, JSON.stringify({ ...llama, num_key_value_heads: 40 }));
    expect(() => readHfConfig(bad)).toThrow(`${bad}: num_key_value_heads (40)`);
  });
});
