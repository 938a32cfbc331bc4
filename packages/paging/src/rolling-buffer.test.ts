import { standardAttention } from "@tradeoffs/attention";
import {
  type AttendOptions,
  getLedger,
  type KvCache,
  type KvCacheSpec,
  Rng,
  randn,
  scope,
  type Tensor,
  tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import { kvDtype } from "@tradeoffs/kv-cache";
import { expectClose, expectNoLeak } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { opaqueF32 } from "../test/kv-fixtures.js";
import { ContiguousKvCache } from "./contiguous-cache.js";
import { PagedKvCache } from "./paged-cache.js";

/** The block kernel and Standard sum the same products in another order (f32). */
const RING_ATTEND_TOL = { atol: 1e-5, rtol: 1e-5 };
const BLOCK = 4;

const layouts = {
  contiguous: (spec: KvCacheSpec) => ContiguousKvCache.forBatch(spec),
  paged: (spec: KvCacheSpec) => PagedKvCache.forBatch(spec, BLOCK),
} as const;

/** Deterministic K (kv=0) or V (kv=1) [B, Hkv, T, D] for positions start.., distinct per batch row. */
function kvAt(B: number, H: number, T: number, D: number, start: number, layer: number, kv: number): Tensor {
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let d = 0; d < D; d++)
          out.push(Math.sin((start + t) * 0.71 + b * 5.3 + layer * 3.1 + kv * 1.9 + h * 0.9 + d * 0.37));
  return tensor(out, [B, H, T, D]);
}

/** Append a chunk of T positions to every layer, check the read before advancing. */
function step(c: KvCache, T: number, check: (layer: number) => void) {
  const { batch: B, layers, kvHeads: H, headDim: D } = c.spec;
  const start = c.length;
  for (let l = 0; l < layers; l++)
    scope(() => c.append(l, kvAt(B, H, T, D, start, l, 0), kvAt(B, H, T, D, start, l, 1)));
  for (let l = 0; l < layers; l++) check(l);
  c.advance(T);
}

/** The last `keep` positions (axis 2) of a [B, H, T, D] tensor, flattened. */
function lastPositions(t: Tensor, keep: number): number[] {
  const [B, H, T, D] = t.shape as [number, number, number, number];
  const out: number[] = [];
  for (let bh = 0; bh < B * H; bh++)
    for (let i = T - keep; i < T; i++) for (let d = 0; d < D; d++) out.push(t.data[(bh * T + i) * D + d]!);
  return out;
}

for (const [name, make] of Object.entries(layouts)) {
  describe(`${name}: rolling-buffer KV cache (window)`, () => {
    for (const window of [5, 8]) {
      it(`window ${window}: read() is the last min(length, ${window}) positions of a cache that keeps all, over 40 positions (prefill longer than the window, then decode)`, () => {
        expectNoLeak(() => {
          const spec = { batch: 2, layers: 2, kvHeads: 2, headDim: 4, maxSeq: 40, dtype: kvDtype().exec };
          const full = make(spec);
          const ring = make({ ...spec, window });
          expect(ring.spec.window).toBe(window);
          const chunks = [7, 1, 3, ...Array.from({ length: 29 }, () => 1)];
          for (const T of chunks) {
            const end = full.length + T;
            step(full, T, () => {}); // `full` has committed `end` positions; `ring` holds T pending
            step(ring, T, (l) =>
              scope(() => {
                const all = full.read(l);
                const got = ring.read(l);
                expect(got.k.dim(2)).toBe(Math.min(end, window));
                expect(Array.from(got.k.data)).toEqual(lastPositions(all.k, Math.min(end, window)));
                expect(Array.from(got.v.data)).toEqual(lastPositions(all.v, Math.min(end, window)));
              }),
            );
            expect(ring.length).toBe(end); // positions stay absolute (RoPE reads them)
          }
          full.dispose();
          ring.dispose();
        });
      });
    }

    it("ledger KV bytes stop growing at the window: flat from there to 40 positions", () => {
      expectNoLeak(() => {
        const spec = { batch: 1, layers: 1, kvHeads: 1, headDim: 4, maxSeq: 40, dtype: kvDtype().exec };
        const kv0 = getLedger().live("kv");
        const ring = make({ ...spec, window: 8 });
        const tokenBytes = 2 * 4 * 4;
        const held: number[] = [];
        for (let i = 0; i < 40; i++) {
          step(ring, 1, () => {});
          held.push(getLedger().live("kv") - kv0);
        }
        // Contiguous reserves the ring up front; paged allocates its 2 blocks of 4 as positions arrive.
        expect(held.slice(8).every((b) => b === 8 * tokenBytes)).toBe(true);
        expect(Math.max(...held)).toBe(8 * tokenBytes);
        ring.dispose();
      });
    });

    it("per-sequence attend over the ring equals Standard over everything with the window mask", () => {
      expectNoLeak(() => {
        const window = 6;
        const spec = { batch: 1, layers: 1, kvHeads: 1, headDim: 4, maxSeq: 30, dtype: opaqueF32 };
        const full = make(spec) as KvCache & {
          attend(q: Tensor, s: number, l: number, o: AttendOptions): Tensor;
        };
        const ring = make({ ...spec, window }) as typeof full;
        const rng = new Rng(5);
        const held = name === "paged" ? Math.ceil(window / BLOCK) * BLOCK : window;
        for (const T of [9, 1, 1, 2, 1, 3, 1, 1, 1, 1, 1]) {
          step(full, T, () => {});
          step(ring, T, () => {});
          // One query at the newest position over what is committed.
          scope(() => {
            const q = randn([1, 2, 1, 4], rng);
            const all = full.read(0);
            const want = standardAttention(q, all.k, all.v, { causal: true, window });
            expectClose(ring.attend(q, 0, 0, { causal: true, window }), want, RING_ATTEND_TOL);
            // Full attention would need keys the ring dropped: a typed error, not a wrong answer.
            if (ring.length > held) expect(() => ring.attend(q, 0, 0, { causal: true })).toThrow(ValueError);
          });
        }
        full.dispose();
        ring.dispose();
      });
    });

    it("rejects a window that is not a positive integer, naming it", () => {
      const spec = { batch: 1, layers: 1, kvHeads: 1, headDim: 4, maxSeq: 8, dtype: kvDtype().exec };
      expect(() => make({ ...spec, window: 0 })).toThrow(/window must be a positive integer, got 0/);
      expect(() => make({ ...spec, window: 2.5 })).toThrow(ValueError);
    });
  });
}

describe("paged ring and forks", () => {
  it("a forked windowed sequence copies the ring block it rewrites; parent and child keep their own last window", () => {
    expectNoLeak(() => {
      const c = new PagedKvCache({
        layers: 1,
        kvHeads: 1,
        headDim: 2,
        dtype: kvDtype().exec,
        block: 4,
        blocks: 8,
        window: 8,
      });
      expect(c.prefixCaching).toBe(false);
      c.addSequence(0, { maxTokens: 100 });
      const put = (id: number, from: number, n: number, salt: number) => {
        scope(() => {
          const v = Array.from({ length: n * 2 }, (_, i) => salt + from + Math.floor(i / 2));
          c.appendTokens(id, 0, tensor(v, [1, 1, n, 2]), tensor(v, [1, 1, n, 2]));
        });
        c.commit(id, n);
      };
      const keys = (id: number) =>
        scope(() => Array.from(c.readSequence(id, 0).k.data).filter((_, i) => i % 2 === 0));
      put(0, 0, 11, 0); // positions 0..10: ring of 2 blocks, wrapped
      expect(keys(0)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(c.blockTable(0)).toHaveLength(2);
      c.fork(0, 1);
      expect(c.blockTable(1)).toEqual(c.blockTable(0));
      put(1, 11, 3, 1000); // rewrites both shared ring entries: both copied
      put(0, 11, 1, 0);
      expect(keys(0)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
      expect(keys(1)).toEqual([6, 7, 8, 9, 10, 1011, 1012, 1013]);
      expect(c.usage().reservedBytes).toBe(4 * c.pool.blockBytes); // two rings of two blocks
      c.dispose();
    });
  });
});

describe("rolling buffers, any window, block and chunking (fast-check)", () => {
  it("read() is always the last min(length, window) positions of a keep-all cache; KV bytes never exceed the ring", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("contiguous", "paged"),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 12 }),
        (layout, window, block, chunks) => {
          const maxSeq = chunks.reduce((a, b) => a + b, 0);
          const spec = { batch: 1, layers: 1, kvHeads: 1, headDim: 2, maxSeq, dtype: kvDtype().exec };
          const make = (w?: number) =>
            layout === "paged"
              ? PagedKvCache.forBatch({ ...spec, window: w }, block)
              : ContiguousKvCache.forBatch({ ...spec, window: w });
          const kv0 = getLedger().live("kv");
          const full = make();
          const ring = make(window);
          // Token slots the ring may hold: whole blocks when paged.
          const cap = Math.min(maxSeq, window);
          const held = layout === "paged" ? Math.ceil(cap / block) * block : cap;
          try {
            for (const T of chunks) {
              const end = full.length + T;
              step(full, T, () => {});
              step(ring, T, () =>
                scope(() => {
                  const want = lastPositions(full.read(0).k, Math.min(end, window));
                  expect(Array.from(ring.read(0).k.data)).toEqual(want);
                }),
              );
              const ringBytes = ring.usage().reservedBytes;
              expect(getLedger().live("kv") - kv0).toBe(full.usage().reservedBytes + ringBytes);
              expect(ringBytes).toBeLessThanOrEqual(held * 2 * 2 * 4); // K and V of 2 floats per slot
            }
          } finally {
            full.dispose();
            ring.dispose();
          }
        },
      ),
      { numRuns: 150, seed: 24 },
    );
  });
});

describe("ContiguousKvCache.view: a lockstep sequence's K/V in place", () => {
  it("views the reservation: the first `keys` positions of each head equal read(), until a ring wraps; none for batch 2 or an int8 store; nothing leaks, the cache survives disposing the views", () => {
    expectNoLeak(() => {
      const spec = { batch: 1, layers: 2, kvHeads: 2, headDim: 4, maxSeq: 12, dtype: kvDtype().exec };
      for (const window of [undefined, 6]) {
        const c = ContiguousKvCache.forBatch(window ? { ...spec, window } : spec);
        const slots = window ?? spec.maxSeq;
        for (const T of [3, 1, 1, 1, 1, 1, 1]) {
          step(c, T, (layer) => {
            const held = c.length + T;
            const view = c.view(layer);
            if (held > slots) {
              expect(view).toBeUndefined(); // the ring wrapped: read() reorders
              return;
            }
            expect(view!.keys).toBe(held);
            expect(view!.k.shape).toEqual([1, 2, slots, 4]);
            const read = c.read(layer);
            for (const [v, r] of [
              [view!.k, read.k],
              [view!.v, read.v],
            ] as const) {
              const prefix: number[] = [];
              for (let h = 0; h < 2; h++)
                prefix.push(...v.data.subarray(h * slots * 4, (h * slots + held) * 4));
              expect(prefix).toEqual(Array.from(r.data));
            }
            for (const t of [view!.k, view!.v, read.k, read.v]) t.dispose();
          });
        }
        c.dispose();
      }
      const two = ContiguousKvCache.forBatch({ ...spec, batch: 2 });
      step(two, 2, (layer) => expect(two.view(layer)).toBeUndefined());
      two.dispose();
      const int8 = ContiguousKvCache.forBatch({ ...spec, dtype: kvDtype({ dtype: "int8" }).exec });
      step(int8, 2, (layer) => expect(int8.view(layer)).toBeUndefined());
      int8.dispose();
    });
  });
});
