import { standardAttention } from "@tradeoffs/attention";
import { getLedger, type KvDtypeExec, Rng, randn, scope } from "@tradeoffs/core-tensor";
import { kvDtype } from "@tradeoffs/kv-cache";
import { expectClose, expectNoLeak } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { opaqueF32 } from "../test/kv-fixtures.js";
import { ContiguousKvCache } from "./contiguous-cache.js";
import { pagedAttention } from "./paged-attention.js";
import { PagedKvCache } from "./paged-cache.js";

/** fp32 online softmax across blocks vs one materialised softmax: rounding only. */
const PAGED_VS_STANDARD_ATOL = 1e-5;
const PAGED_VS_STANDARD_RTOL = 1e-5;

const fp32 = kvDtype().exec;

interface Case {
  heads: number;
  kvHeads: number;
  block: number;
  prompt: number;
  decode: number;
  window?: number;
  dtype: KvDtypeExec;
}

function run(c: Case) {
  const D = 8;
  const layers = 2;
  const rng = new Rng(c.prompt * 31 + c.block);
  const cache = new PagedKvCache({
    layers,
    kvHeads: c.kvHeads,
    headDim: D,
    dtype: c.dtype,
    block: c.block,
    blocks: 64,
  });
  cache.addSequence(3, { maxTokens: 0 });
  // Prefill (Tq = prompt), then decode steps (Tq = 1): compare every call with standard attention.
  for (const T of [c.prompt, ...Array<number>(c.decode).fill(1)]) {
    for (let l = 0; l < layers; l++) {
      scope(() => {
        const k = randn([1, c.kvHeads, T, D], rng);
        const v = randn([1, c.kvHeads, T, D], rng);
        const q = randn([1, c.heads, T, D], rng);
        cache.appendTokens(3, l, k, v);
        const opts = { causal: true, window: c.window };
        const got = pagedAttention(q, cache, 3, l, opts);
        const all = cache.readSequence(3, l);
        const want = standardAttention(q, all.k, all.v, opts);
        expectClose(
          got,
          want,
          { atol: PAGED_VS_STANDARD_ATOL, rtol: PAGED_VS_STANDARD_RTOL },
          "paged vs standard",
        );
      });
    }
    cache.commit(3, T);
  }
  cache.dispose();
}

describe("pagedAttention equals standard attention on the same K/V", () => {
  const cases: Case[] = [
    { heads: 4, kvHeads: 4, block: 4, prompt: 13, decode: 6, dtype: fp32 },
    { heads: 4, kvHeads: 2, block: 16, prompt: 40, decode: 3, dtype: fp32 },
    { heads: 4, kvHeads: 1, block: 3, prompt: 7, decode: 5, dtype: fp32 },
    { heads: 4, kvHeads: 2, block: 5, prompt: 21, decode: 4, window: 6, dtype: fp32 },
    { heads: 2, kvHeads: 2, block: 64, prompt: 70, decode: 2, dtype: opaqueF32 },
    { heads: 6, kvHeads: 3, block: 4, prompt: 9, decode: 3, window: 4, dtype: opaqueF32 },
  ];
  for (const c of cases) {
    it(`H=${c.heads} Hkv=${c.kvHeads} block=${c.block} prompt=${c.prompt}${c.window ? ` window=${c.window}` : ""} ${c.dtype.dtype}`, () => {
      expectNoLeak(() => run(c));
    });
  }

  it("contiguous reservations read through the same kernel agree too", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(2);
        const c = new ContiguousKvCache({
          layers: 1,
          kvHeads: 2,
          headDim: 8,
          dtype: fp32,
          budgetBytes: 1 << 20,
        });
        c.addSequence(0, { maxTokens: 50 });
        const k = randn([1, 2, 30, 8], rng);
        const v = randn([1, 2, 30, 8], rng);
        const q = randn([1, 4, 30, 8], rng);
        c.appendTokens(0, 0, k, v);
        const got = c.attend(q, 0, 0, { causal: true });
        expectClose(got, standardAttention(q, k, v, { causal: true }), {
          atol: PAGED_VS_STANDARD_ATOL,
          rtol: PAGED_VS_STANDARD_RTOL,
        });
        c.dispose();
      }),
    );
  });

  it("never gathers the sequence: tmp peak is the output plus per-row statistics", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(9);
        const cache = new PagedKvCache({
          layers: 1,
          kvHeads: 2,
          headDim: 16,
          dtype: fp32,
          block: 16,
          blocks: 64,
        });
        cache.addSequence(0, { maxTokens: 0 });
        cache.appendTokens(0, 0, randn([1, 2, 500, 16], rng), randn([1, 2, 500, 16], rng));
        cache.commit(0, 500);
        const q = randn([1, 4, 1, 16], rng);
        const { peakAbove, result } = getLedger().measure(() =>
          pagedAttention(q, cache, 0, 0, { causal: true }),
        );
        // out [1,4,1,16] f32 + stats [2, 4] f32; a gathered K/V would be 2·2·500·16·4 = 128000 bytes.
        expect(peakAbove.tmp).toBe(4 * 16 * 4 + 2 * 4 * 4);
        result.dispose();
        cache.dispose();
      }),
    );
  });
});
