import { kvDtype } from "@tradeoffs/kv-cache";
import { expectNoLeak } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { ContiguousKvCache } from "./contiguous-cache.js";
import { PagedKvCache } from "./paged-cache.js";
import { percentiles, serve, syntheticTrace } from "./serve.js";
import { ToyAttentionModel } from "./testing/toy-model.js";

const fp32 = kvDtype().exec;

describe("syntheticTrace", () => {
  it("is seeded, Poisson-ordered, and keeps prompt + output within maxSeq", () => {
    const a = syntheticTrace({ requests: 300, seed: 4, maxSeq: 512 });
    expect(syntheticTrace({ requests: 300, seed: 4, maxSeq: 512 })).toEqual(a);
    for (let i = 1; i < a.length; i++) expect(a[i]!.arrival).toBeGreaterThanOrEqual(a[i - 1]!.arrival);
    for (const r of a) expect(r.prompt.length + r.outputTokens).toBeLessThanOrEqual(512);
    const prompts = a.map((r) => r.prompt.length);
    // Long tail: the mean sits above the median (log-normal).
    const mean = prompts.reduce((s, x) => s + x, 0) / prompts.length;
    expect(mean).toBeGreaterThan(percentiles(prompts).p50);
    // Mean inter-arrival ≈ 1 / rate (20/s), loosely.
    expect(a[a.length - 1]!.arrival / a.length).toBeGreaterThan(0.03);
    expect(a[a.length - 1]!.arrival / a.length).toBeLessThan(0.07);
  });
  it("starts every prompt with the shared prefix when asked", () => {
    const a = syntheticTrace({ requests: 5, sharedPrefix: 8 });
    for (const r of a) expect(r.prompt.slice(0, 8)).toEqual(a[0]!.prompt.slice(0, 8));
  });
});

describe("serve", () => {
  it("Paged wastes less KV memory and runs more sequences than Contiguous on the same budget", () => {
    expectNoLeak(() => {
      const model = new ToyAttentionModel({
        layers: 1,
        heads: 2,
        kvHeads: 1,
        headDim: 4,
        vocab: 32,
        seed: 2,
      });
      const trace = syntheticTrace({
        requests: 24,
        rate: 200,
        seed: 1,
        vocab: 32,
        maxSeq: 256,
        prompt: { median: 24, max: 96 },
        output: { median: 24, max: 96 },
      });
      const shape = { layers: 1, kvHeads: 1, headDim: 4, dtype: fp32 };
      const budgetBytes = 4 * 256 * 32; // room for 4 contiguous reservations of 256 tokens
      const p = new PagedKvCache({ ...shape, block: 8, budgetBytes });
      const c = new ContiguousKvCache({ ...shape, budgetBytes });
      const paged = serve(trace, { cache: p, model, maxSeq: 256 }).metrics;
      const contiguous = serve(trace, { cache: c, model, maxSeq: 256 }).metrics;
      p.dispose();
      c.dispose();
      expect(paged.wastePercent).toBeLessThan(contiguous.wastePercent);
      expect(contiguous.wastePercent).toBeGreaterThan(60);
      expect(paged.peakSequences).toBeGreaterThanOrEqual(2 * contiguous.peakSequences);
      expect(paged.requests).toBe(24);
      expect(paged.ttft.p50).toBeGreaterThan(0);
      expect(paged.ttft.p99).toBeGreaterThanOrEqual(paged.ttft.p50);
      model.dispose();
    });
  });
});
