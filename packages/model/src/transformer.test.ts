import { backward, getLedger, MemoryLedger, noGrad, Rng, tensor, withLedger } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { estimate } from "./estimator.js";
import { parse } from "./registry.js";
import { Transformer } from "./transformer.js";

/** f32 central differences on the whole model: loose, because the loss is summed over many terms in f32. */
const FD_TOL = { rel: 5e-2, abs: 2e-3 };
/** Incremental decoding and full recomputation do the same arithmetic in a different order. */
const DECODE_TOL = 1e-4;

function ids(rng: Rng, B: number, T: number, V: number) {
  return tensor(
    Array.from({ length: B * T }, () => rng.int(V)),
    [B, T],
    { dtype: "i32" },
  );
}

describe("Transformer on tiny", () => {
  it("backward matches central finite differences on sampled weights", () => {
    withLedger(new MemoryLedger(), () => {
      const rng = new Rng(11);
      const model = Transformer.create("tiny", parse("Baseline"), { seed: 3 });
      const x = ids(rng, 2, 6, 64);
      const y = ids(rng, 2, 6, 64);
      const loss = model.loss(x, y);
      backward(loss);
      loss.dispose();
      const params = model.parameters();
      const lossAt = () =>
        noGrad(() => {
          const l = model.loss(x, y);
          const v = l.item();
          l.dispose();
          return v;
        });
      let checked = 0;
      for (const p of params) {
        const d = p.data;
        const g = p.grad!.data;
        for (let k = 0; k < 3; k++) {
          const i = rng.int(d.length);
          const old = d[i]!;
          const eps = 1e-2;
          d[i] = old + eps;
          const up = lossAt();
          d[i] = old - eps;
          const down = lossAt();
          d[i] = old;
          const fd = (up - down) / (2 * eps);
          expect(Math.abs(fd - g[i]!)).toBeLessThanOrEqual(FD_TOL.abs + FD_TOL.rel * Math.abs(fd));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(30);
      for (const p of params) p.grad?.dispose();
      x.dispose();
      y.dispose();
      model.dispose();
    });
  });

  it("incremental decoding with the KV cache equals full recomputation", () => {
    withLedger(new MemoryLedger(), () => {
      const rng = new Rng(5);
      const model = Transformer.create("tiny", parse("Baseline"), { seed: 1 });
      const seq = ids(rng, 2, 10, 64);
      const full = noGrad(() => model.forward(seq));
      const cache = model.createCache(2, 10);
      const sd = seq.int32;
      const prompt = tensor([...sd.subarray(0, 6), ...sd.subarray(10, 16)], [2, 6], { dtype: "i32" });
      const parts = [noGrad(() => model.forward(prompt, cache))];
      for (let t = 6; t < 10; t++) {
        const step = tensor([sd[t]!, sd[10 + t]!], [2, 1], { dtype: "i32" });
        parts.push(noGrad(() => model.forward(step, cache)));
        step.dispose();
      }
      const V = 64;
      const fd = full.data;
      for (let b = 0; b < 2; b++) {
        for (let t = 0; t < 10; t++) {
          const part = t < 6 ? parts[0]! : parts[t - 5]!;
          const pt = t < 6 ? t : 0;
          const T = part.dim(1);
          for (let j = 0; j < V; j++) {
            expect(Math.abs(part.data[(b * T + pt) * V + j]! - fd[(b * 10 + t) * V + j]!)).toBeLessThan(
              DECODE_TOL,
            );
          }
        }
      }
      for (const t of [...parts, full, seq, prompt]) t.dispose();
      cache.dispose();
      model.dispose();
      expect(getLedger().live()).toBe(0);
    });
  });
});

/** Training tmp is approximated (backward transients); the plan says so with `exact.tmp = false`. */
const TRAIN_TMP_TOL = 0.2;
const TMP_TOL = 0.05;

describe("estimator agrees with the ledger when decode's cache read is the largest temporary", () => {
  // One sequence, a short prompt, a long decode: the attention step's K/V dominate tmp. Standard reads a
  // contiguous cache in place (KvCache.view), so no gathered copy is live; a paged cache gathers.
  it.each([
    ["Baseline", false],
    ["Paged", true],
  ] as const)("%s: tmp within TMP_TOL, with a gathered copy: %s", (config, gathers) => {
    const ledger = new MemoryLedger();
    const [P, G] = [4, 60];
    withLedger(ledger, () => {
      const rng = new Rng(4);
      const m = Transformer.create("tiny", parse(config), { seed: 1 });
      const cache = m.createCache(1, P + G);
      ledger.resetPeak();
      noGrad(() => {
        let next = ids(rng, 1, P, m.arch.vocab);
        for (let s = 0; s < G; s++) {
          m.forward(next, cache).dispose();
          next.dispose();
          next = ids(rng, 1, 1, m.arch.vocab);
        }
        next.dispose();
      });
      const tmp = ledger.snapshot().peak.tmp ?? 0;
      const est = estimate("tiny", parse(config), { kind: "infer", batch: 1, seq: P, generate: G });
      const withoutRead = estimate("tiny", parse(config), { kind: "infer", batch: 1, seq: P, generate: 2 });
      expect(est.exact.tmp).toBe(true);
      expect(Math.abs(tmp - est.bytes.tmp) / est.bytes.tmp).toBeLessThan(TMP_TOL);
      // the long decode's gathered K/V raise the peak only where the cache is copied
      expect(est.bytes.tmp > withoutRead.bytes.tmp).toBe(gathers);
      cache.dispose();
      m.dispose();
    });
    expect(ledger.live()).toBe(0);
  });
});

describe("estimator agrees with the ledger for the Baseline", () => {
  for (const model of ["tiny", "small"] as const) {
    it(`${model}: train step — weights, act, grad exact; optim exact after an AdamW step; tmp within ${TRAIN_TMP_TOL * 100}% (approximate, and said so)`, async () => {
      const { AdamW } = await import("./optimizer.js");
      const ledger = new MemoryLedger();
      withLedger(ledger, () => {
        const rng = new Rng(2);
        const m = Transformer.create(model, parse("Baseline"), { seed: 1 });
        const B = 2;
        const T = 16;
        const x = ids(rng, B, T, m.arch.vocab);
        const y = ids(rng, B, T, m.arch.vocab);
        ledger.resetPeak();
        const loss = m.loss(x, y);
        backward(loss);
        loss.dispose();
        const opt = new AdamW(m.parameters());
        noGrad(() => opt.step());
        const peak = ledger.snapshot().peak;
        const est = estimate(model, parse("Baseline"), { kind: "train", batch: B, seq: T, generate: 0 });
        expect(peak.weights).toBe(est.bytes.weights);
        expect(peak.act).toBe(est.bytes.act);
        expect(peak.grad).toBe(est.bytes.grad);
        expect(peak.optim).toBe(est.bytes.optim);
        expect(est.exact.tmp).toBe(false);
        expect(est.notes.some((n) => n.startsWith("tmp in training"))).toBe(true);
        expect(Math.abs((peak.tmp ?? 0) - est.bytes.tmp) / est.bytes.tmp).toBeLessThan(TRAIN_TMP_TOL);
        opt.dispose();
        x.dispose();
        y.dispose();
        m.dispose();
      });
      expect(ledger.live()).toBe(0);
    });

    it(`${model}: inference — weights and kv exact, tmp within ${TMP_TOL * 100}%`, () => {
      const ledger = new MemoryLedger();
      withLedger(ledger, () => {
        const rng = new Rng(4);
        const m = Transformer.create(model, parse("Baseline"), { seed: 1 });
        const B = 2;
        const P = 12;
        const G = 4;
        const x = ids(rng, B, P, m.arch.vocab);
        ledger.resetPeak();
        const cache = m.createCache(B, P + G);
        noGrad(() => {
          let next = x;
          for (let s = 0; s < G; s++) {
            const logits = m.forward(next, cache);
            if (next !== x) next.dispose();
            logits.dispose();
            next = ids(rng, B, 1, m.arch.vocab);
          }
          next.dispose();
        });
        const peak = ledger.snapshot().peak;
        const est = estimate(model, parse("Baseline"), { kind: "infer", batch: B, seq: P, generate: G });
        expect(peak.weights).toBe(est.bytes.weights);
        expect(peak.kv).toBe(est.bytes.kv);
        expect(est.exact.tmp).toBe(true);
        expect(Math.abs((peak.tmp ?? 0) - est.bytes.tmp) / est.bytes.tmp).toBeLessThan(TMP_TOL);
        cache.dispose();
        x.dispose();
        m.dispose();
      });
      expect(ledger.live()).toBe(0);
    });
  }
});
