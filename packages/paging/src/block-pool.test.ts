import { getLedger, scope } from "@tradeoffs/core-tensor";
import { kvDtype } from "@tradeoffs/kv-cache";
import { expectNoLeak } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { kvFor, kvValue } from "../test/kv-fixtures.js";
import { BlockPool, blockBytes, blockKey } from "./block-pool.js";
import { PoolExhaustedError } from "./errors.js";
import { PagedKvCache } from "./paged-cache.js";

const fp32 = kvDtype().exec;
const L = 2;
const H = 2;
const D = 4;
const BS = 4;

type Op =
  | { kind: "add"; prompt: number[] }
  | { kind: "append"; seq: number; tokens: number[] }
  | { kind: "fork"; seq: number }
  | { kind: "free"; seq: number }
  | { kind: "swap"; seq: number };

const token = fc.integer({ min: 0, max: 2 }); // a tiny alphabet so prefixes repeat
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("add" as const), prompt: fc.array(token, { minLength: 1, maxLength: 14 }) }),
  fc.record({
    kind: fc.constant("append" as const),
    seq: fc.nat(),
    tokens: fc.array(token, { minLength: 1, maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant("fork" as const), seq: fc.nat() }),
  fc.record({ kind: fc.constant("free" as const), seq: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), seq: fc.nat() }),
);

/** Append tokens to a sequence as a model would (every layer, then commit); false if the pool is short. */
function append(cache: PagedKvCache, id: number, tokens: readonly number[], start: number): boolean {
  if (!cache.ensureCapacity(id, tokens.length)) return false;
  scope(() => {
    for (let l = 0; l < L; l++)
      cache.appendTokens(id, l, kvFor(tokens, start, l, 0, H, D), kvFor(tokens, start, l, 1, H, D));
  });
  cache.commit(id, tokens);
  return true;
}

/** The sequence's cached K/V equal what its own tokens would have written. */
function expectContent(cache: PagedKvCache, id: number, tokens: readonly number[]): void {
  for (let l = 0; l < L; l++) {
    const { k, v } = cache.readSequence(id, l);
    const T = tokens.length;
    expect(k.dim(2)).toBe(T);
    let bad = 0;
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let d = 0; d < D; d++) {
          if (k.data[(h * T + t) * D + d] !== kvValue(tokens[t]!, t, l, 0, h, d)) bad++;
          if (v.data[(h * T + t) * D + d] !== kvValue(tokens[t]!, t, l, 1, h, d)) bad++;
        }
    expect(bad, `sequence ${id} layer ${l}: elements that differ from its own tokens`).toBe(0);
    k.dispose();
    v.dispose();
  }
}

describe("BlockPool", () => {
  it("sizes the pool from the KV budget: bytes per block from the kv-dtype", () => {
    expect(blockBytes(2, 2, 4, 4, fp32)).toBe(2 * 2 * 2 * 4 * 4 * 4);
    const pool = new BlockPool({
      layers: L,
      kvHeads: H,
      headDim: D,
      block: BS,
      dtype: fp32,
      budgetBytes: 5000,
    });
    expect(pool.capacity).toBe(Math.floor(5000 / pool.blockBytes));
    pool.dispose();
  });

  it("charges blocks to `kv` on allocation and returns them when released", () => {
    expectNoLeak(() => {
      const pool = new BlockPool({ layers: L, kvHeads: H, headDim: D, block: BS, dtype: fp32, blocks: 3 });
      const before = getLedger().live("kv");
      const a = pool.allocate();
      expect(getLedger().live("kv") - before).toBe(pool.blockBytes);
      pool.retain(a);
      pool.release(a);
      expect(pool.refs(a)).toBe(1);
      pool.release(a);
      expect(getLedger().live("kv")).toBe(before);
      expect(pool.available).toBe(3);
      pool.dispose();
    });
  });

  it("throws PoolExhaustedError (typed, with the numbers) when no block is left", () => {
    const pool = new BlockPool({ layers: 1, kvHeads: 1, headDim: 2, block: 2, dtype: fp32, blocks: 2 });
    pool.allocate();
    pool.allocate();
    const err = (() => {
      try {
        pool.allocate();
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PoolExhaustedError);
    expect((err as PoolExhaustedError).capacity).toBe(2);
    expect((err as Error).message).toMatch(/raise the KV budget/);
    pool.dispose();
  });

  it("prefix cache: a released full block is reused by key and evicted least-recently-used", () => {
    expectNoLeak(() => {
      const pool = new BlockPool({ layers: 1, kvHeads: 1, headDim: 2, block: 2, dtype: fp32, blocks: 2 });
      const a = pool.allocate();
      const ka = pool.register(a, "", [1, 2]);
      const b = pool.allocate();
      pool.register(b, "", [3, 4]);
      pool.release(a);
      pool.release(b);
      expect(pool.cachedIdle).toBe(2);
      expect(pool.lookup("", [1, 2])?.block).toBe(a); // a is now the most recently used
      pool.release(a);
      const c = pool.allocate(); // evicts b (least recently used), not a
      expect(c).toBe(b);
      expect(pool.lookup("", [3, 4])).toBeUndefined();
      expect(pool.lookup("", [1, 2])?.key).toBe(ka);
      expect(pool.prefixStats).toMatchObject({ hits: 2, misses: 1, evictions: 1 });
      expect(blockKey("", [1, 2])).not.toBe(blockKey(ka, [1, 2]));
      pool.release(a);
      pool.release(c);
      pool.dispose();
    });
  });
});

describe("PagedKvCache allocator properties (fast-check)", () => {
  it("refcounts match block tables, copy-on-write keeps siblings intact, and nothing leaks", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.boolean(), (ops, withHost) => {
        const kvBefore = getLedger().live("kv");
        const before = getLedger().live();
        const cache = new PagedKvCache({
          layers: L,
          kvHeads: H,
          headDim: D,
          dtype: fp32,
          block: BS,
          blocks: 10,
          hostBlocks: withHost ? 6 : 0,
        });
        const seqs = new Map<number, number[]>(); // id → tokens (the shadow model)
        let next = 0;
        const pick = (i: number) => [...seqs.keys()][i % Math.max(1, seqs.size)];
        for (const o of ops) {
          if (o.kind === "add") {
            const id = next++;
            const cached = cache.addSequence(id, { tokens: o.prompt, maxTokens: 64 });
            expect(cached % BS).toBe(0);
            if (append(cache, id, o.prompt.slice(cached), cached)) seqs.set(id, [...o.prompt]);
            else cache.free(id);
          } else if (seqs.size > 0) {
            const id = pick(o.seq)!;
            const toks = seqs.get(id)!;
            if (cache.isSwapped(id) && o.kind !== "free" && !cache.swapIn(id)) continue;
            if (o.kind === "append") {
              if (append(cache, id, o.tokens, toks.length)) toks.push(...o.tokens);
            } else if (o.kind === "fork") {
              const child = next++;
              cache.fork(id, child);
              seqs.set(child, [...toks]);
            } else if (o.kind === "free") {
              cache.free(id);
              seqs.delete(id);
            } else {
              cache.swapOut(id);
            }
          }
          // Invariants after every operation.
          expect(cache.pool.audit()).toEqual([]);
          const owners = new Map<number, number>();
          for (const id of seqs.keys())
            for (const b of cache.blockTable(id)) owners.set(b, (owners.get(b) ?? 0) + 1);
          for (let b = 0; b < cache.pool.capacity; b++) {
            if (cache.pool.refs(b) !== (owners.get(b) ?? 0)) {
              expect.fail(`block ${b}: refs ${cache.pool.refs(b)} but ${owners.get(b) ?? 0} tables hold it`);
            }
          }
          for (const [id, toks] of seqs) if (!cache.isSwapped(id)) expectContent(cache, id, toks);
        }
        for (const id of [...seqs.keys()]) cache.free(id);
        expect(cache.pool.inUse).toBe(0);
        cache.pool.evictAll();
        expect(cache.pool.freeIds).toBe(cache.pool.capacity);
        expect(cache.pool.audit()).toEqual([]);
        cache.dispose();
        expect(getLedger().live("kv")).toBe(kvBefore);
        expect(getLedger().live()).toBe(before);
      }),
      { numRuns: 120, seed: 1234 },
    );
  });
});
