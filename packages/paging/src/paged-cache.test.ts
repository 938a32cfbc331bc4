import { getLedger, scope } from "@tradeoffs/core-tensor";
import { kvDtype } from "@tradeoffs/kv-cache";
import { expectNoLeak } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { kvFor } from "../test/kv-fixtures.js";
import { PoolExhaustedError } from "./errors.js";
import { PagedKvCache } from "./paged-cache.js";

const fp32 = kvDtype().exec;

function make(blocks: number, hostBlocks = 0) {
  return new PagedKvCache({ layers: 1, kvHeads: 1, headDim: 2, dtype: fp32, block: 4, blocks, hostBlocks });
}
function put(c: PagedKvCache, id: number, tokens: number[]) {
  scope(() => {
    const start = c.sequenceLength(id);
    c.appendTokens(id, 0, kvFor(tokens, start, 0, 0, 1, 2), kvFor(tokens, start, 0, 1, 1, 2));
  });
  c.commit(id, tokens);
}
function keys(c: PagedKvCache, id: number): number[] {
  return scope(() => Array.from(c.readSequence(id, 0).k.data));
}

describe("PagedKvCache", () => {
  it("allocates blocks on demand: ledger kv grows by one block per `block` tokens", () => {
    expectNoLeak(() => {
      const c = make(8);
      const kv0 = getLedger().live("kv");
      c.addSequence(0, { maxTokens: 100 });
      put(c, 0, [1, 2, 3]);
      expect(getLedger().live("kv") - kv0).toBe(c.pool.blockBytes);
      put(c, 0, [4, 5]);
      expect(c.blockTable(0)).toHaveLength(2);
      expect(getLedger().live("kv") - kv0).toBe(2 * c.pool.blockBytes);
      expect(c.usage()).toMatchObject({ reservedBytes: 2 * c.pool.blockBytes, usedBytes: 5 * c.tokenBytes });
      c.dispose();
    });
  });

  it("fork shares blocks; the first append copies the shared partial block only", () => {
    expectNoLeak(() => {
      const c = make(8);
      c.addSequence(0, { maxTokens: 100 });
      put(c, 0, [1, 2, 3, 4, 5, 6]); // one full block + a partial one
      c.fork(0, 1);
      expect(c.blockTable(1)).toEqual(c.blockTable(0));
      const parentKeys = keys(c, 0);
      put(c, 1, [9]);
      expect(c.blockTable(1)[0]).toBe(c.blockTable(0)[0]); // full block still shared
      expect(c.blockTable(1)[1]).not.toBe(c.blockTable(0)[1]); // partial block copied
      expect(keys(c, 0)).toEqual(parentKeys);
      put(c, 0, [7]);
      expect(keys(c, 1).slice(0, 12)).toEqual(parentKeys);
      expect(c.pool.refs(c.blockTable(0)[0]!)).toBe(2);
      c.free(0);
      c.free(1);
      expect(c.pool.inUse).toBe(0);
      c.dispose();
    });
  });

  it("prefix caching reuses full blocks of an identical prompt prefix and reports the hit rate", () => {
    expectNoLeak(() => {
      const c = make(8);
      c.addSequence(0, { tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9], maxTokens: 100 });
      put(c, 0, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      c.free(0); // its two full blocks stay cached (idle)
      expect(c.pool.cachedIdle).toBe(2);
      const hit = c.addSequence(1, { tokens: [1, 2, 3, 4, 5, 6, 7, 8, 0, 0], maxTokens: 100 });
      expect(hit).toBe(8);
      put(c, 1, [0, 0]);
      // All cached: at least one token is left to compute.
      expect(c.addSequence(2, { tokens: [1, 2, 3, 4, 5, 6, 7, 8], maxTokens: 100 })).toBe(4);
      expect(c.pool.prefixStats).toMatchObject({ hits: 3, misses: 1 }); // seq 0's first lookup missed
      expect(c.addSequence(3, { tokens: [2, 2, 3, 4, 5], maxTokens: 100 })).toBe(0);
      expect(c.pool.prefixStats.hitRate).toBeCloseTo(3 / 5);
      for (const id of [1, 2, 3]) c.free(id);
      c.dispose();
    });
  });

  it("swaps a sequence to the host pool (kv/host) and back, bit for bit", () => {
    expectNoLeak(() => {
      const c = make(4, 4);
      c.addSequence(0, { maxTokens: 100 });
      put(c, 0, [1, 2, 3, 4, 5, 6]);
      const before = keys(c, 0);
      expect(c.swapOut(0)).toBe(true);
      expect(c.pool.inUse).toBe(0);
      expect(getLedger().live("kv/host")).toBe(2 * c.host!.blockBytes);
      expect(c.usage().hostBytes).toBe(2 * c.host!.blockBytes);
      expect(c.swapIn(0)).toBe(true);
      expect(getLedger().live("kv/host")).toBe(0);
      expect(keys(c, 0)).toEqual(before);
      c.dispose();
    });
  });

  it("appending beyond the pool throws PoolExhaustedError; ensureCapacity says false first", () => {
    expectNoLeak(() => {
      const c = make(1);
      c.addSequence(0, { maxTokens: 100 });
      expect(c.ensureCapacity(0, 5)).toBe(false);
      expect(() => put(c, 0, [1, 2, 3, 4, 5])).toThrow(PoolExhaustedError);
      c.dispose();
    });
  });
});
