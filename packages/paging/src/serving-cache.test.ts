import { getLedger, Rng, randn, type SequenceCacheSpec, scope } from "@tradeoffs/core-tensor";
import { kvDtype } from "@tradeoffs/kv-cache";
import { expectNoLeak } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { kvFor } from "../test/kv-fixtures.js";
import { contiguous } from "./contiguous.js";
import { ContiguousKvCache } from "./contiguous-cache.js";
import { paged } from "./paged.js";
import { PagedKvCache } from "./paged-cache.js";

const fp32 = kvDtype().exec;
// 2 layers × K,V × 2 heads × 4 dims × 4 bytes.
const TOKEN_BYTES = 128;
const spec: SequenceCacheSpec = {
  layers: 2,
  kvHeads: 2,
  headDim: 4,
  dtype: fp32,
  budgetBytes: 100 * TOKEN_BYTES,
};

describe("each kv-memory strategy builds its own serving cache (exec.createSequenceCache)", () => {
  it("Contiguous: reserve-max inside the budget, no host pool even when asked to swap", () => {
    const c = contiguous().exec.createSequenceCache!({ ...spec, swap: true });
    expect(c).toBeInstanceOf(ContiguousKvCache);
    expect([c.kind, c.tokenBytes, c.capacityTokens, c.canSwap]).toEqual([
      "contiguous",
      TOKEN_BYTES,
      100,
      false,
    ]);
    expect(c.footprintTokens(5, 40)).toBe(40);
    expect(c.meanHeldTokens(10, 7, 40)).toBe(40);
    c.dispose();
  });

  it("Paged[block]: blocks of the strategy's size from the budget, a host pool only with swap", () => {
    for (const block of [4, 16]) {
      const c = paged({ block }).exec.createSequenceCache!(spec);
      expect(c).toBeInstanceOf(PagedKvCache);
      expect((c as PagedKvCache).block).toBe(block);
      expect([c.kind, c.tokenBytes, c.canSwap]).toEqual(["paged", TOKEN_BYTES, false]);
      expect(c.capacityTokens).toBe(Math.floor(100 / block) * block);
      expect(c.footprintTokens(5, 40)).toBe(Math.ceil(5 / block) * block);
      expect(c.meanHeldTokens(10, 7, 40)).toBe(10 + 3.5 + block / 2);
      c.dispose();
      const s = paged({ block }).exec.createSequenceCache!({ ...spec, swap: true }) as PagedKvCache;
      expect(s.canSwap).toBe(true);
      expect(s.host?.capacity).toBe(64);
      s.dispose();
    }
  });
});

describe("ContiguousKvCache: one layout, lockstep and per sequence", () => {
  it("forBatch reserves batch × maxSeq tokens up front, all in ledger kv", () => {
    expectNoLeak(() => {
      const kv0 = getLedger().live("kv");
      const c = ContiguousKvCache.forBatch({
        batch: 3,
        layers: 2,
        kvHeads: 2,
        headDim: 4,
        maxSeq: 10,
        dtype: fp32,
      });
      expect(getLedger().live("kv") - kv0).toBe(3 * 10 * TOKEN_BYTES);
      expect(c.bytes).toBe(3 * 10 * TOKEN_BYTES);
      expect(c.spec).toMatchObject({ batch: 3, maxSeq: 10 });
      c.dispose();
    });
  });

  it("lockstep appends land in each sequence, readable per sequence and via read()", () => {
    expectNoLeak(() =>
      scope(() => {
        const c = ContiguousKvCache.forBatch({
          batch: 2,
          layers: 1,
          kvHeads: 2,
          headDim: 4,
          maxSeq: 6,
          dtype: fp32,
        });
        const k = randn([2, 2, 3, 4], new Rng(1));
        const v = randn([2, 2, 3, 4], new Rng(2));
        c.append(0, k, v);
        c.advance(3);
        expect([c.length, c.sequenceLength(1)]).toEqual([3, 3]);
        expect(Array.from(c.read(0).k.data)).toEqual(Array.from(k.data));
        expect(Array.from(c.read(0).v.data)).toEqual(Array.from(v.data));
        // Going past maxSeq names the reservation and what to do.
        expect(() => c.append(0, randn([2, 2, 4, 4], new Rng(3)), randn([2, 2, 4, 4], new Rng(4)))).toThrow(
          /beyond its reservation of 6.*larger maxSeq/,
        );
        c.dispose();
      }),
    );
  });

  it("rejects a batch or maxSeq that is not a positive integer, naming it", () => {
    const bad = { batch: 0, layers: 1, kvHeads: 1, headDim: 2, maxSeq: 4, dtype: fp32 };
    expect(() => ContiguousKvCache.forBatch(bad)).toThrow(/batch must be a positive integer, got 0/);
    expect(() => ContiguousKvCache.forBatch({ ...bad, batch: 1, maxSeq: 1.5 })).toThrow(/maxSeq.*got 1\.5/);
  });

  it("per-sequence reservations stay inside the budget and free back to zero", () => {
    expectNoLeak(() => {
      const c = new ContiguousKvCache({ ...spec, budgetBytes: 50 * TOKEN_BYTES });
      expect(c.canAdmit(4, 30)).toBe(true);
      c.addSequence(7, { maxTokens: 30 });
      expect(c.canAdmit(4, 30)).toBe(false);
      scope(() => c.appendTokens(7, 0, kvFor([1, 2], 0, 0, 0, 2, 4), kvFor([1, 2], 0, 0, 1, 2, 4)));
      scope(() => c.appendTokens(7, 1, kvFor([1, 2], 0, 1, 0, 2, 4), kvFor([1, 2], 0, 1, 1, 2, 4)));
      c.commit(7, [1, 2]);
      expect(c.usage()).toMatchObject({
        reservedBytes: 30 * TOKEN_BYTES,
        usedBytes: 2 * TOKEN_BYTES,
        sequences: 1,
      });
      c.free(7);
      expect(c.usage().reservedBytes).toBe(0);
      c.dispose();
    });
  });
});
