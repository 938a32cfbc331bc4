import { MemoryLedger, noGrad, Rng, tensor, withLedger } from "@tradeoffs/core-tensor";
import { ContiguousKvCache, PagedKvCache, type TraceOptions } from "@tradeoffs/paging";
import { describe, expect, it } from "vitest";
import { parse } from "../registry.js";
import { Transformer } from "../transformer.js";
import { runServe, transformerStepModel } from "./serve.js";

/** Serving through a rolling buffer and one full forward with the window mask: same f32 arithmetic, another order. */
const SERVE_WINDOW_TOL = 1e-4;
// tiny: 2 layers × K,V × 4 KV heads × 8 dims × 4 bytes = 512 bytes per cached token (fp32 KV).
const TOKEN_BYTES = 512;

describe("serving a sliding-window model from rolling-buffer caches", () => {
  for (const layout of ["contiguous", "paged"] as const) {
    it(`${layout}: a 12-token prompt and 10 decode steps through a window of 6 give the logits of full recomputation`, () => {
      withLedger(new MemoryLedger(), () => {
        const m = Transformer.create("tiny", parse("Standard[window=6]"), { seed: 2 });
        const spec = {
          layers: 2,
          kvHeads: 4,
          headDim: 8,
          dtype: m.exec["kv-dtype"],
          budgetBytes: 64 * TOKEN_BYTES,
          window: 6,
        };
        const cache =
          layout === "paged" ? PagedKvCache.forServing(spec, 4) : ContiguousKvCache.forServing(spec);
        const step = transformerStepModel(m);
        const rng = new Rng(8);
        const tokens = Array.from({ length: 22 }, () => rng.int(64));
        cache.addSequence(0, { tokens: tokens.slice(0, 12), maxTokens: 22 });
        expect(cache.ensureCapacity(0, 12)).toBe(true);
        const rows = [step.prefill(cache, 0, tokens.slice(0, 12), 0)];
        cache.commit(0, tokens.slice(0, 12));
        for (let t = 12; t < 21; t++) {
          expect(cache.ensureCapacity(0, 1)).toBe(true);
          rows.push(step.decode(cache, [0], [tokens[t]!])[0]!);
          cache.commit(0, [tokens[t]!]);
        }
        // A ring of 6 slots (contiguous) or 2 blocks of 4 (paged), whatever the length.
        expect(cache.usage().reservedBytes).toBe((layout === "paged" ? 8 : 6) * TOKEN_BYTES);
        const ids = tensor(tokens.slice(0, 21), [1, 21], { dtype: "i32" });
        const full = noGrad(() => m.forward(ids)); // (1, 21, 64)
        rows.forEach((row, i) => {
          const want = full.data.subarray((11 + i) * 64, (12 + i) * 64);
          let worst = 0;
          for (let j = 0; j < 64; j++) worst = Math.max(worst, Math.abs(row[j]! - want[j]!));
          expect(worst).toBeLessThan(SERVE_WINDOW_TOL);
        });
        full.dispose();
        ids.dispose();
        cache.dispose();
        m.dispose();
      });
    });
  }

  it("runServe: every request completes, contiguous reservations are whole rings, and the peak is below the unwindowed run's", () => {
    const trace: TraceOptions = {
      requests: 8,
      seed: 3,
      rate: 1000,
      vocab: 64,
      maxSeq: 64,
      prompt: { median: 8, sigma: 0.5, min: 2, max: 24 },
      output: { median: 6, sigma: 0.5, min: 1, max: 16 },
      maxNewTokens: 32,
    };
    const budgetBytes = 160 * TOKEN_BYTES;
    for (const memory of ["", "+Paged[block=4]"]) {
      const run = (attention: string) =>
        runServe({ model: "tiny", config: parse(attention + memory) }, { budgetBytes, trace });
      const windowed = run("Standard[window=8]");
      const full = run("Standard");
      expect(windowed.metrics.requests).toBe(8);
      expect(windowed.peak.kv).toBeLessThanOrEqual(budgetBytes);
      expect(windowed.predicted.wastePercent).toBeGreaterThanOrEqual(0);
      expect(windowed.metrics.internalFragmentationPercent).toBeGreaterThanOrEqual(0);
      expect(windowed.metrics.peakReservedBytes).toBeLessThan(full.metrics.peakReservedBytes);
      // Every request may grow past 8 tokens (maxTokens ≥ 2 + 32): a contiguous ring is 8 slots.
      if (memory === "")
        expect(windowed.timeline.every((s) => s.reserved % (8 * TOKEN_BYTES) === 0)).toBe(true);
    }
  });
});
