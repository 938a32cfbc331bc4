import { describe, expect, it } from "vitest";
import { moeParamCounts } from "./params.js";

describe("moeParamCounts", () => {
  it("reproduces Mixtral-8x7B: 46.7B total, 12.9B active", () => {
    // Mixtral-8x7B (Jiang et al. 2024, arXiv:2401.04088; HF config.json): d=4096, ffn 14336,
    // 32 layers, 8 experts, top-2, 32 heads / 8 KV heads of 128, vocab 32000, untied embeddings.
    const ffn = moeParamCounts({
      layers: 32,
      dModel: 4096,
      ffnHidden: 14336,
      ffnKind: "swiglu",
      biases: false,
      experts: 8,
      topK: 2,
      sharedExperts: 0,
    });
    expect(ffn.perExpert).toBe(3 * 4096 * 14336);
    expect(ffn.router).toBe(4096 * 8);
    const attention = 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024);
    const embeddings = 2 * 32000 * 4096;
    const norms = (2 * 32 + 1) * 4096;
    const rest = attention + embeddings + norms;
    expect(ffn.total + rest).toBe(46_702_792_704); // "47B" / 46.7B published
    expect(ffn.active + rest).toBe(12_879_925_248); // "13B active" / 12.9B published
    expect(ffn.forwardFlopsPerToken).toBe(2 * ffn.active);
  });

  it("is the dense FFN (no router) for one expert, and counts shared experts as always active", () => {
    const arch = { layers: 2, dModel: 8, ffnHidden: 16, ffnKind: "swiglu", biases: false } as const;
    const d = moeParamCounts({ ...arch, experts: 1, topK: 1, sharedExperts: 0 });
    expect(d.total).toBe(2 * 3 * 8 * 16);
    expect(d.active).toBe(d.total);
    const s = moeParamCounts({ ...arch, experts: 4, topK: 1, sharedExperts: 1 });
    expect(s.totalPerLayer).toBe(5 * 384 + 32);
    expect(s.activePerLayer).toBe(2 * 384 + 32);
    const g = moeParamCounts({
      ...arch,
      ffnKind: "gelu",
      biases: true,
      experts: 1,
      topK: 1,
      sharedExperts: 0,
    });
    expect(g.perExpert).toBe(2 * 8 * 16 + 16 + 8);
  });
});
