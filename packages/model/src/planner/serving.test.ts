// vLLM's KV-cache sizing, checked against the figures its own logs print (cited per test).
import { describe, expect, it } from "vitest";
import { parse } from "../registry.js";
import { kvBytesPerToken } from "./memory.js";
import { modelFacts } from "./model-facts.js";
import { planCluster } from "./plan.js";
import { kvCapacity, maxConcurrentSequences, VLLM_BLOCK } from "./serving.js";

const GiB = 2 ** 30;

describe("vLLM KV capacity arithmetic", () => {
  it("Llama-3-8B on an H100 (vllm-project/vllm#10511): 79.22 × 0.90 − 14.96 − 1.79 − 1.26 = 53.29 GiB for KV", () => {
    const f = modelFacts("llama3-8b", parse("Baseline"));
    const perToken = kvBytesPerToken(f, 1, 32);
    expect(perToken).toBe(32 * 8 * 128 * 2 * 2); // layers × KV heads × head dim × (K, V) × fp16
    const cap = kvCapacity({
      capacityBytes: 79.22 * GiB,
      utilization: 0.9,
      weightsBytes: 14.96 * GiB,
      peakActivationBytes: 1.26 * GiB,
      nonTorchBytes: 1.79 * GiB,
      kvBytesPerToken: perToken,
      blockSize: VLLM_BLOCK,
    });
    expect(cap.availableBytes / GiB).toBeCloseTo(53.29, 1);
    expect(cap.blocks).toBe(Math.floor(cap.availableBytes / (16 * perToken)));
    expect(cap.tokens).toBe(cap.blocks * 16);
  });

  it("Llama-3.2-11B-Vision on an H100 (vllm-project/vllm#12126): 14.65 GiB of KV → 6001 CUDA blocks", () => {
    // 40 layers (32 self + 8 cross attention) × 8 KV heads × 128 × (K, V) × fp16 = 160 KiB per token.
    const cap = kvCapacity({
      capacityBytes: 79.22 * GiB,
      utilization: 0.9,
      weightsBytes: 19.86 * GiB,
      peakActivationBytes: 36.63 * GiB,
      nonTorchBytes: 0.16 * GiB,
      kvBytesPerToken: 40 * 8 * 128 * 2 * 2,
      blockSize: 16,
    });
    expect(cap.availableBytes / GiB).toBeCloseTo(14.65, 1);
    expect(Math.abs(cap.blocks - 6001)).toBeLessThanOrEqual(3); // the log rounds GiB to 2 places
  });

  it("concurrency: whole blocks per sequence", () => {
    expect(maxConcurrentSequences(100, 16, 16)).toBe(100);
    expect(maxConcurrentSequences(100, 16, 17)).toBe(50);
    expect(maxConcurrentSequences(7, 16, 4096)).toBe(0);
  });

  it("Llama-2-70B, TP=4 on 4×A100-80GB (vllm-project/vllm#2031): between vLLM's 20865 and 31615 GPU blocks", () => {
    // vLLM printed 31615 blocks before it counted NCCL's memory outside PyTorch and 20865 after;
    // our non-torch default (context + one group's buffers) sits near the first.
    const p = planCluster({
      model: "llama2-70b",
      config: parse("Baseline"),
      hardware: "a100-80gb",
      devices: 4,
      tp: 4,
      workload: "serve",
      seq: 4096,
      generate: 0,
    });
    expect(p.kvBlocks).toBeGreaterThan(20865);
    expect(p.kvBlocks).toBeLessThan(31615);
    expect(p.kvCapacityTokens).toBe((p.kvBlocks ?? 0) * 16);
    expect(p.maxConcurrentSequences).toBe(Math.floor((p.kvBlocks ?? 0) / (4096 / 16)));
    expect(p.perDevice.total).toBeLessThanOrEqual(0.9 * p.perDevice.capacity);
  });

  it("a KV head split over tp ≤ kvHeads halves the per-device KV bytes per token; below that it is replicated", () => {
    const f = modelFacts("llama2-70b", parse("Baseline")); // 8 KV heads
    const at = (tp: number) => kvBytesPerToken(f, tp, 80);
    expect(at(2)).toBe(at(1) / 2);
    expect(at(8)).toBe(at(1) / 8);
    expect(at(16)).toBe(at(8)); // 8 heads on 16 devices: one head each, each stored twice
  });
});
