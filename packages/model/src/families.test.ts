import { ConfigError } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { estimate } from "./estimator.js";
import { kvCacheHeads, kvElementsPerToken, kvGroups } from "./kv-layout.js";
import { planCluster } from "./planner/index.js";
import { kvBytesPerToken } from "./planner/memory.js";
import { deviceWeights, modelFacts } from "./planner/model-facts.js";
import { getPreset } from "./presets.js";
import { parse } from "./registry.js";

const infer = (seq: number, generate = 0, batch = 1) => ({ kind: "infer", batch, seq, generate }) as const;

describe("MLA (DeepSeek-V2-Lite): the cache holds the latent, not K and V", () => {
  const v2 = getPreset("deepseek-v2-lite").arch;

  it("KV bytes per token = layers · (kv_lora_rank + qk_rope_head_dim) · bytes per element", () => {
    const e = estimate("deepseek-v2-lite", parse("Baseline"), infer(1000, 24, 3));
    // 27 layers · (512 + 64) fp16 elements per token and sequence
    expect(e.bytes.kv).toBe(3 * 1024 * 27 * (512 + 64) * 2);
    expect(kvElementsPerToken(v2)).toBe(27 * 576);
    // K and V of 16 heads of 128 would be 27 · 2 · 16 · 128 elements: 7.1× the latent.
    expect((2 * 16 * 128) / 576).toBeCloseTo(7.11, 2);
    expect(e.notes.join("\n")).toMatch(
      /MLA caches one latent of kvLoraRank \+ qk_rope_head_dim = 576 elements/,
    );
    expect(e.notes.join("\n")).toMatch(/absorbs kv_b_proj into q and o/);
  });

  it("int8 KV keeps one scale per latent vector; paged reserves whole blocks", () => {
    const int8 = estimate("deepseek-v2-lite", parse("KV[dtype=int8]"), infer(100));
    expect(int8.bytes.kv).toBe(100 * 27 * (576 * 1 + 4));
    const paged = estimate("deepseek-v2-lite", parse("Paged[block=64]"), infer(100));
    expect(paged.bytes.kv).toBe(128 * 27 * 576 * 2);
  });

  it("the latent is one vector that tensor parallelism replicates, not splits", () => {
    expect(kvGroups(v2)).toEqual([{ layers: 27, window: undefined, vectors: 1, width: 576 }]);
    expect(kvCacheHeads(v2)).toBe(1);
  });

  it("the planner holds the whole latent on each tensor-parallel device and splits q_b, kv_b, o and experts", () => {
    const f = modelFacts("deepseek-v2-lite", parse("Baseline"));
    expect(kvBytesPerToken(f, 1, 27)).toBe(27 * 576 * 2);
    expect(kvBytesPerToken(f, 4, 27)).toBe(27 * 576 * 2);
    // kv_a (2048 → 576), its norm, the layer norms and the router stay whole; q, kv_b, o and experts split.
    const one = deviceWeights(f, 1, 27, false, false).params;
    const four = deviceWeights(f, 4, 27, false, false).params;
    const replicated = 27 * (2048 * 576 + 512 + 2 * 2048 + 64 * 2048);
    expect(four - replicated).toBeCloseTo((one - replicated) / 4, 0);
  });

  it("attention FLOPs score over nope + rope = 192 dims and weight values over 128", () => {
    const T = 512;
    const e = estimate("deepseek-v2-lite", parse("Baseline"), infer(T));
    expect(e.flops.attentionPrefill).toBe(27 * 2 * 16 * (192 + 128) * T * T);
  });

  it("a decode step at batch 1 reads the active parameters (6 of 64 routed experts, the dense layer) and the latents", () => {
    const e = estimate("deepseek-v2-lite", parse("Baseline"), infer(1, 1));
    expect(e.bytesMoved.decodePerToken).toBe(e.params.active * 2 + 2 * 27 * 576 * 2);
  });
});

describe("Gemma 2: local and global layers estimated per layer", () => {
  const per = 2 * 8 * 256 * 2; // K and V, 8 KV heads of 256, fp16: bytes per token and layer

  it("below the window every layer holds every token", () => {
    const e = estimate("gemma2-9b", parse("Baseline"), infer(3000));
    expect(e.bytes.kv).toBe(42 * 3000 * per);
  });

  it("past the window the 21 local layers hold 4096 tokens and the 21 global ones all", () => {
    const e = estimate("gemma2-9b", parse("Baseline"), infer(8000, 192));
    expect(e.bytes.kv).toBe((21 * 4096 + 21 * 8192) * per);
    // A decode step reads each layer's cache: the local layers' rolling buffers, the global layers' whole context.
    const ctx = 8000 + 192;
    const kvRead = (21 * 4096 + 21 * ctx) * per;
    expect(e.bytesMoved.decodePerToken).toBe(e.bytes.weights + kvRead);
    // and scores as many keys: 2 (QKᵀ) + 2 (PV) FLOPs per head dim and key.
    const attention = 4 * 16 * 256 * (21 * 4096 + 21 * ctx);
    expect(e.flops.decodePerToken - attention).toBe(
      2 * (e.params.active - e.params.embedding) + 2 * 3584 * 256000,
    );
  });

  it("a window on every layer (Mistral) stays one group", () => {
    expect(kvGroups(getPreset("mistral-7b").arch)).toEqual([
      { layers: 32, window: 4096, vectors: 16, width: 128 },
    ]);
  });
});

describe("dense layers in MoE models (DeepSeek-MoE-16B)", () => {
  it("a decode step at batch 1 reads exactly the active parameters (the dense first layer whole)", () => {
    const e = estimate("deepseek-moe-16b", parse("Baseline"), infer(1, 1));
    expect(e.bytesMoved.decodePerToken).toBe(e.params.active * 2 + 2 * 28 * 2 * 16 * 128 * 2);
    // 2.8B activated (DeepSeekMoE paper, Table 1), rounded
    expect(e.params.active / 1e9).toBeCloseTo(2.8, 1);
  });

  it("new architecture fields out of range are one ConfigError naming each", () => {
    const arch = getPreset("deepseek-v2-lite").arch;
    const bad = {
      ...arch,
      denseLayers: 40,
      windowLayers: -1,
      window: 4096,
      mla: { kvLoraRank: 0.5, ropeHeadDim: 64, nopeHeadDim: 128 },
    };
    try {
      estimate(bad, parse("Baseline"), infer(16));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect([...(e as ConfigError).problems]).toEqual([
        "deepseek-v2-lite: windowLayers must be an integer in 0..27, got -1",
        "deepseek-v2-lite: denseLayers must be an integer in 0..27, got 40",
        "deepseek-v2-lite: mla.kvLoraRank must be an integer in 1..1048576, got 0.5",
      ]);
    }
  });
});

describe("the planner's KV follows the estimator's layer groups", () => {
  const cases = [
    ["mistral-7b", "Baseline", 32768],
    ["gemma2-9b", "Baseline", 8192],
    ["phi3-mini-4k", "Baseline", 4000],
    ["deepseek-v2-lite", "KV[dtype=int8]", 20000],
    ["gemma2-9b", "Paged[block=16]", 6000],
  ] as const;
  for (const [model, config, seq] of cases) {
    it(`${model} ${config} at ${seq} tokens: one device holds the estimate's KV`, () => {
      const p = planCluster({
        model,
        config: parse(config),
        hardware: "h100-80gb",
        devices: 1,
        tp: 1,
        seq,
        generate: 64,
        batch: 2,
      });
      const e = estimate(model, parse(config), infer(seq, 64, 2));
      expect(p.perDevice.bytes.kv).toBe(e.bytes.kv);
    });
  }
});
