import type { SequenceCache } from "@tradeoffs/core-tensor";
import { getLedger, type Tensor } from "@tradeoffs/core-tensor";
import { kvDtype } from "@tradeoffs/kv-cache";
import { expectNoLeak } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { ContiguousKvCache } from "./contiguous-cache.js";
import { RequestTooLargeError } from "./errors.js";
import { PagedKvCache } from "./paged-cache.js";
import { type ServeRequest, schedule } from "./scheduler.js";
import { syntheticTrace } from "./serve.js";
import { ToyAttentionModel } from "./testing/toy-model.js";

const fp32 = kvDtype().exec;
const shape = { layers: 2, kvHeads: 2, headDim: 8 };
const tokenBytes = 2 * 2 * 2 * 8 * 4;

function pagedCache(blocks: number, hostBlocks = 0, prefixCaching = true) {
  return new PagedKvCache({ ...shape, dtype: fp32, block: 4, blocks, hostBlocks, prefixCaching });
}

/** The request under test, and a crowd of others that keep the batch busy. */
const target: ServeRequest = {
  id: 0,
  arrival: 0.5,
  prompt: [5, 9, 1, 33, 2, 7, 7, 12, 40, 3, 8],
  outputTokens: 20,
};
const crowd = syntheticTrace({
  requests: 12,
  rate: 50,
  seed: 3,
  vocab: 64,
  prompt: { median: 10, max: 24 },
  output: { median: 12, max: 30 },
  maxSeq: 64,
}).map((r) => ({ ...r, id: r.id + 1 }));

function outputsOf(
  cache: SequenceCache,
  requests: readonly ServeRequest[],
  model: ToyAttentionModel,
  preemption: "recompute" | "swap" = "recompute",
) {
  let out: readonly (readonly number[])[] = [];
  let preemptions = { recompute: 0, swap: 0 };
  expectNoLeak(() => {
    const r = schedule(requests, { cache, model, preemption, maxSeq: 64, clock: () => 0.01 });
    out = r.requests.find((q) => q.id === 0)!.outputs;
    preemptions = r.preemptions;
    cache.dispose();
  });
  return { out, preemptions };
}

describe("scheduler: greedy generation of a request does not depend on its company", () => {
  const model = new ToyAttentionModel({ ...shape, heads: 4, vocab: 64, seed: 11 });
  const alone = outputsOf(pagedCache(64), [target], model).out;

  it("generates the requested number of tokens", () => {
    expect(alone).toHaveLength(1);
    expect(new Set(alone[0]).size).toBeGreaterThan(5); // not a constant or echoing model
    expect(alone[0]).toHaveLength(20);
  });
  it("is identical in a busy batch", () => {
    expect(outputsOf(pagedCache(64), [target, ...crowd], model).out).toEqual(alone);
  });
  it("is identical after recompute preemptions (tiny pool)", () => {
    const r = outputsOf(pagedCache(12), [target, ...crowd], model, "recompute");
    expect(r.preemptions.recompute).toBeGreaterThan(0);
    expect(r.out).toEqual(alone);
  });
  it("is identical after swap preemptions", () => {
    const r = outputsOf(pagedCache(12, 64), [target, ...crowd], model, "swap");
    expect(r.preemptions.swap).toBeGreaterThan(0);
    expect(r.out).toEqual(alone);
  });
  it("is identical when its prompt prefix comes from the prefix cache", () => {
    const cache = pagedCache(64);
    const twin: ServeRequest = { ...target, id: 0, arrival: 5 };
    const first: ServeRequest = { ...target, id: 99, arrival: 0 };
    const r = outputsOf(cache, [first, twin], model);
    expect(cache.pool.prefixStats.hits).toBeGreaterThan(0);
    expect(r.out).toEqual(alone);
  });
  it("is identical under Contiguous reservations", () => {
    const cache = new ContiguousKvCache({ ...shape, dtype: fp32, budgetBytes: 4 * 64 * tokenBytes });
    expect(outputsOf(cache, [target, ...crowd], model).out).toEqual(alone);
  });
  it("changes when cached K/V are wrong (the oracle has teeth)", () => {
    const cache = pagedCache(64);
    const appendTokens = (seqId: number, layer: number, k: Tensor, v: Tensor) => {
      // Shift the key of position 3 (head 0) in the prefill: one wrong vector per layer.
      if (cache.sequenceLength(seqId) === 0)
        for (let d = 0; d < 8; d++) k.data[3 * 8 + d] = k.data[3 * 8 + d]! + 2;
      cache.appendTokens(seqId, layer, k, v);
    };
    const corrupt = new Proxy(cache, {
      get: (t, p) => {
        if (p === "appendTokens") return appendTokens;
        const v = Reflect.get(t, p, t);
        return typeof v === "function" ? v.bind(t) : v;
      },
    }) as SequenceCache;
    expect(outputsOf(corrupt, [target], model).out).not.toEqual(alone);
  });
});

describe("scheduler: memory", () => {
  const model = new ToyAttentionModel({ ...shape, heads: 4, vocab: 64, seed: 11 });

  it("a request that can never fit the budget is a typed error, not a hang", () => {
    const big: ServeRequest = { id: 7, arrival: 0, prompt: Array(30).fill(1), outputTokens: 20 };
    expect(() => schedule([big], { cache: pagedCache(8), model, maxSeq: 64 })).toThrow(RequestTooLargeError);
    const contiguous = new ContiguousKvCache({ ...shape, dtype: fp32, budgetBytes: 32 * tokenBytes });
    expect(() => schedule([target], { cache: contiguous, model, maxSeq: 64 })).toThrow(
      /exceed the KV budget/,
    );
    expect(getLedger().live("kv")).toBe(0);
  });

  it("parallel sampling (n=4) shares prompt blocks: fewer blocks than 4 independent requests", () => {
    // Prefix caching off: with it, identical independent prompts would share their full blocks too.
    const prompt = Array.from({ length: 21 }, (_, i) => (i * 7) % 64);
    const peak = (reqs: ServeRequest[]) => {
      const cache = pagedCache(128, 0, false);
      const r = schedule(reqs, { cache, model, maxSeq: 64, clock: () => 0.01 });
      cache.dispose();
      return {
        blocks: r.peakReservedBytes / (4 * tokenBytes),
        outputs: r.requests.flatMap((q) => q.outputs),
      };
    };
    const shared = peak([{ id: 0, arrival: 0, prompt, outputTokens: 8, n: 4, temperature: 10 }]);
    const separate = peak(
      [0, 1, 2, 3].map((i) => ({ id: i, arrival: 0, prompt, outputTokens: 8, temperature: 10, seed: i })),
    );
    expect(shared.outputs).toHaveLength(4);
    expect(new Set(shared.outputs.map((o) => o.join())).size).toBeGreaterThan(1); // samples diverge
    expect(shared.blocks).toBeLessThan(separate.blocks);
  });
});
