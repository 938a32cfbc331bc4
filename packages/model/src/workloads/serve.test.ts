import { ConfigError, compose, defineStrategy } from "@tradeoffs/core-tensor";
import { contiguous, paged, syntheticTrace, type TraceOptions } from "@tradeoffs/paging";
import { describe, expect, it } from "vitest";
import { parse } from "../registry.js";
import { estimateServe, runServe } from "./serve.js";

// tiny: 2 layers × K,V × 4 KV heads × 8 dims × 4 bytes = 512 bytes per cached token (fp32 KV).
const TOKEN_BYTES = 512;
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

/** The trace's waste computed by hand: live tokens p + o/2 against `held(p, o, maxTokens)` slots. */
function wasteByHand(held: (p: number, o: number, maxTokens: number) => number): number {
  let live = 0;
  let reserved = 0;
  for (const r of syntheticTrace(trace)) {
    const p = r.prompt.length;
    const o = r.outputTokens;
    live += o * (p + o / 2);
    reserved += o * held(p, o, p + Math.min(r.maxNewTokens ?? 64 - p, 64 - p));
  }
  return 100 * (1 - live / reserved);
}

describe("runServe asks the configuration's kv-memory strategy for its serving cache", () => {
  it("Baseline serves from Contiguous reservations, inside the budget", () => {
    const r = runServe({ model: "tiny", config: compose() }, { budgetBytes, trace });
    expect(r.memory).toBe("contiguous");
    expect(r.metrics.requests).toBe(8);
    expect(r.predicted.tokenBytes).toBe(TOKEN_BYTES);
    expect(r.predicted.capacityTokens).toBe(160);
    expect(r.predicted.wastePercent).toBeCloseTo(
      wasteByHand((_p, _o, max) => max),
      10,
    );
    expect(r.metrics.peakReservedBytes).toBeLessThanOrEqual(budgetBytes);
    expect(r.peak.kv).toBeLessThanOrEqual(budgetBytes);
  });

  it("Paged[block] serves from blocks of the strategy's own size (no default repeated in the workload)", () => {
    for (const block of [4, 32]) {
      const r = runServe({ model: "tiny", config: compose(paged({ block })) }, { budgetBytes, trace });
      expect(r.memory).toBe("paged");
      expect(r.metrics.requests).toBe(8);
      expect(r.predicted.wastePercent).toBeCloseTo(
        wasteByHand((p, o) => p + o / 2 + block / 2),
        10,
      );
      // Every reservation is a whole number of the strategy's blocks.
      expect(r.timeline.every((s) => s.reserved % (block * TOKEN_BYTES) === 0)).toBe(true);
      expect(r.metrics.peakReservedBytes).toBeLessThanOrEqual(budgetBytes);
    }
  });

  it("estimateServe reads the layout from the cache it is given", () => {
    const reqs = syntheticTrace(trace);
    const reserveMax = {
      tokenBytes: TOKEN_BYTES,
      meanHeldTokens: (_p: number, _o: number, max: number) => max,
    };
    const e = estimateServe(reqs, reserveMax, budgetBytes, 64);
    expect(e.wastePercent).toBeCloseTo(
      wasteByHand((_p, _o, max) => max),
      10,
    );
    expect(e.capacityTokens).toBe(160);
  });

  it("a kv-memory strategy without a serving cache is a ConfigError naming the ones that have one", () => {
    const lockstepOnly = defineStrategy({
      name: "LockstepOnly",
      slot: "kv-memory",
      description: "a kv-memory strategy that builds no serving cache",
      options: {},
      plan: (p) => p,
      exec: () => ({ createCache: (spec) => contiguous().exec.createCache(spec) }),
    });
    const run = () => runServe({ model: "tiny", config: compose(lockstepOnly()) }, { budgetBytes, trace });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/LockstepOnly.*Contiguous, Paged/);
  });
});

describe("serve is reproducible: the default clock charges steps by token counts", () => {
  it("the same seed gives identical scheduler metrics, run after run; wall seconds are measured beside them", () => {
    const tight = { budgetBytes: 48 * TOKEN_BYTES, trace: { ...trace, rate: 200 } };
    const runs = [0, 1].map(() => runServe({ model: "tiny", config: compose(paged({ block: 4 })) }, tight));
    const { wallSeconds: w0, ...m0 } = runs[0]!.metrics;
    const { wallSeconds: w1, ...m1 } = runs[1]!.metrics;
    expect(m1).toEqual(m0);
    expect(runs[1]!.timeline).toEqual(runs[0]!.timeline);
    expect(w0).toBeGreaterThan(0);
    expect(w1).toBeGreaterThan(0);
  });

  it("a step costs what the model reads and computes: packed weights make steps cheaper", () => {
    const [a, b] = ["Baseline", "Q4_0"].map((c) =>
      runServe({ model: "tiny", config: parse(c) }, { budgetBytes, trace }),
    );
    expect(b!.metrics.seconds).toBeLessThan(a!.metrics.seconds);
  });
});
