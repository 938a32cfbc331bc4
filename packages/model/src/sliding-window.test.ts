import {
  getLedger,
  type KvCache,
  MemoryLedger,
  noGrad,
  Rng,
  type Tensor,
  tensor,
  withLedger,
} from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { estimate } from "./estimator.js";
import { parse } from "./registry.js";
import { Transformer } from "./transformer.js";

/**
 * A rolling buffer and a cache that keeps everything feed the same keys to the same kernel; full
 * recomputation does the same arithmetic in another order (f32 on tiny's logits).
 */
const WINDOW_DECODE_TOL = 1e-4;
const WINDOW = 6;
/** The estimator's inference tmp against the ledger's (transformer.test.ts holds Baseline to the same 5%). */
const WINDOW_TMP_TOL = 0.05;

function ids(rng: Rng, B: number, T: number, V: number) {
  return tensor(
    Array.from({ length: B * T }, () => rng.int(V)),
    [B, T],
    { dtype: "i32" },
  );
}

/** Columns [from, from + T) of ids [B, N]. */
function cols(x: Tensor, from: number, T: number): Tensor {
  const [B, N] = x.shape as [number, number];
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let t = from; t < from + T; t++) out.push(x.int32[b * N + t]!);
  return tensor(out, [B, T], { dtype: "i32" });
}

/**
 * Logits [B, N, V] of `seq` [B, N] run through `cache` in chunks (prefill, then the given chunk
 * sizes), concatenated in position order.
 */
function incremental(m: Transformer, seq: Tensor, cache: KvCache, chunks: readonly number[]): Float32Array {
  const [B, N] = seq.shape as [number, number];
  const V = m.arch.vocab;
  const out = new Float32Array(B * N * V);
  let at = 0;
  noGrad(() => {
    for (const T of chunks) {
      const x = cols(seq, at, T);
      const l = m.forward(x, cache); // (B, T, V)
      for (let b = 0; b < B; b++) out.set(l.data.subarray(b * T * V, (b + 1) * T * V), (b * N + at) * V);
      l.dispose();
      x.dispose();
      at += T;
    }
  });
  expect(at).toBe(N);
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe(`sliding-window attention with a rolling-buffer KV cache (window ${WINDOW}, tiny)`, () => {
  // Prefill longer than the window, single decode steps, a 3-token chunk after the buffer wrapped.
  const chunks = [8, 1, 1, 1, 3, ...Array.from({ length: 14 }, () => 1)];
  // With int8 K/V a chunk after the prefill differs by design: on the ring path (read, then append)
  // its own K/V enter attention unquantised, as a prefill's do; a keep-all cache reads them back as
  // int8. One token at a time both read every key from the cache.
  const stepwise = [8, ...Array.from({ length: 20 }, () => 1)];
  const N = chunks.reduce((a, b) => a + b, 0);
  for (const config of [
    `Standard[window=${WINDOW}]`,
    `Standard[window=${WINDOW}]+Paged[block=4]`,
    `Flash[block=4,window=${WINDOW}]+GQA[kvHeads=2]`,
    `Standard[window=${WINDOW}]+KV[dtype=int8]`,
  ]) {
    it(`${config}: ${N} positions through the rolling buffer give the logits of a cache that keeps all and of full recomputation`, () => {
      withLedger(new MemoryLedger(), () => {
        const m = Transformer.create("tiny", parse(config), { seed: 2 });
        expect(m.arch.window).toBe(WINDOW);
        const seq = ids(new Rng(5), 2, N, m.arch.vocab);
        const ring = m.createCache(2, N);
        expect(ring.spec.window).toBe(WINDOW);
        const { layers, kvHeads, headDim } = m.arch;
        // The oracle cache: same layout and dtype, no window (it keeps every position).
        const all = m.exec["kv-memory"].createCache({
          batch: 2,
          layers,
          kvHeads,
          headDim,
          maxSeq: N,
          dtype: m.exec["kv-dtype"],
        });
        const run = config.includes("int8") ? stepwise : chunks;
        const viaRing = incremental(m, seq, ring, run);
        const viaAll = incremental(m, seq, all, run);
        expect(ring.length).toBe(N); // positions (RoPE) stay absolute
        expect(maxDiff(viaRing, viaAll)).toBeLessThan(WINDOW_DECODE_TOL);
        if (!config.includes("int8")) {
          const full = noGrad(() => m.forward(seq)); // (2, N, V): one pass, window mask, no cache
          expect(maxDiff(viaRing, full.data)).toBeLessThan(WINDOW_DECODE_TOL);
          full.dispose();
        }
        ring.dispose();
        all.dispose();
        seq.dispose();
        m.dispose();
      });
    });
  }

  it("the window changes the logits past it (the oracle comparison can fail)", () => {
    withLedger(new MemoryLedger(), () => {
      const seq = ids(new Rng(5), 1, 20, 64);
      const logits = (config: string) => {
        const m = Transformer.create("tiny", parse(config), { seed: 2 });
        const l = noGrad(() => m.forward(seq));
        const d = l.data.slice();
        l.dispose();
        m.dispose();
        return d;
      };
      const windowed = logits(`Standard[window=${WINDOW}]`);
      const full = logits("Standard");
      const V = 64;
      // Identical while every query sees at most WINDOW keys, different after.
      expect(maxDiff(windowed.subarray(0, WINDOW * V), full.subarray(0, WINDOW * V))).toBe(0);
      expect(maxDiff(windowed.subarray(12 * V), full.subarray(12 * V))).toBeGreaterThan(1e-3);
      seq.dispose();
    });
  });

  it("a long generation's tmp follows the rolling buffer: decode reads at most the window, the estimate too", () => {
    const ledger = new MemoryLedger();
    withLedger(ledger, () => {
      const config = "Standard[window=8]";
      const m = Transformer.create("small", parse(config), { seed: 1 });
      const rng = new Rng(6);
      const prompt = ids(rng, 1, 4, m.arch.vocab);
      ledger.resetPeak();
      const cache = m.createCache(1, 4 + 300);
      noGrad(() => {
        let next = prompt;
        for (let s = 0; s < 300; s++) {
          m.forward(next, cache).dispose();
          if (next !== prompt) next.dispose();
          next = ids(rng, 1, 1, m.arch.vocab);
        }
        next.dispose();
      });
      const peak = ledger.snapshot().peak;
      const est = estimate("small", parse(config), { kind: "infer", batch: 1, seq: 4, generate: 300 });
      expect(peak.kv).toBe(est.bytes.kv);
      // 300 positions of K/V gathered per decode step would be ~0.5 MB of tmp; the window keeps 8.
      expect(Math.abs((peak.tmp ?? 0) - est.bytes.tmp) / est.bytes.tmp).toBeLessThan(WINDOW_TMP_TOL);
      cache.dispose();
      prompt.dispose();
      m.dispose();
    });
  });

  for (const config of ["Standard[window=8]", "Standard[window=10]+Paged[block=4]"]) {
    it(`${config} on small: ledger KV bytes stay flat past the window and equal the estimator's exactly`, () => {
      const ledger = new MemoryLedger();
      withLedger(ledger, () => {
        const m = Transformer.create("small", parse(config), { seed: 1 });
        const B = 2;
        const P = 12;
        const G = 20;
        const rng = new Rng(4);
        const prompt = ids(rng, B, P, m.arch.vocab);
        ledger.resetPeak();
        const kv0 = getLedger().live("kv");
        const cache = m.createCache(B, P + G);
        const held: number[] = [];
        noGrad(() => {
          let next = prompt;
          for (let s = 0; s < G; s++) {
            m.forward(next, cache).dispose();
            held.push(getLedger().live("kv") - kv0);
            if (next !== prompt) next.dispose();
            next = ids(rng, B, 1, m.arch.vocab);
          }
          next.dispose();
        });
        expect(new Set(held).size).toBe(1); // every step past the 12-token prompt: one ring's worth
        const est = estimate("small", parse(config), { kind: "infer", batch: B, seq: P, generate: G });
        expect(ledger.snapshot().peak.kv).toBe(est.bytes.kv);
        expect(est.exact.kv).toBe(true);
        expect(est.notes.some((n) => n.includes("rolling buffer of the last"))).toBe(true);
        // And P + G = 32 positions without the window would hold more than twice as much.
        const noWindow = estimate("small", parse(config.replace(/Standard\[window=\d+\]/, "Standard")), {
          kind: "infer",
          batch: B,
          seq: P,
          generate: G,
        });
        expect(noWindow.bytes.kv).toBeGreaterThan(2 * est.bytes.kv);
        cache.dispose();
        prompt.dispose();
        m.dispose();
      });
      expect(ledger.live()).toBe(0);
    });
  }
});
