/**
 * Every strategy family inside the whole model, against its oracle: Flash vs Standard, GQA vs MHA,
 * quantised KV vs f32 KV, checkpointing vs none, paged vs contiguous — plus the estimator's exact
 * categories for each configuration of the default suite.
 */
import {
  backward,
  MemoryLedger,
  noGrad,
  OutOfMemoryError,
  Rng,
  tensor,
  withLedger,
} from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { estimate } from "./estimator.js";
import { runInfer, runTrain } from "./index.js";
import { DEFAULT_SUITE, parse } from "./registry.js";
import { Transformer } from "./transformer.js";

/** int8 K/V (absmax per token and head) against f32 K/V on the model's logits. */
const KV_INT8_LOGIT_TOL = 5e-2;
const KV_FP16_LOGIT_TOL = 5e-3;
/** Incremental decoding vs full recomputation: same arithmetic, different order. */
const DECODE_TOL = 1e-4;

function ids(rng: Rng, B: number, T: number, V: number) {
  return tensor(
    Array.from({ length: B * T }, () => rng.int(V)),
    [B, T],
    { dtype: "i32" },
  );
}

function logitsOf(config: string, model: "tiny" | "small", x: ReturnType<typeof ids>): Float32Array {
  return withLedger(new MemoryLedger(), () => {
    const m = Transformer.create(model, parse(config), { seed: 7 });
    const l = noGrad(() => m.forward(x));
    const out = l.data.slice();
    l.dispose();
    m.dispose();
    return out;
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("strategies inside the model", () => {
  it("Flash generates the same greedy tokens as Standard on small", () => {
    const gen = (c: string) =>
      withLedger(new MemoryLedger(), () => {
        const m = Transformer.create("small", parse(c), { seed: 3 });
        const out = m.generate([[84, 104, 101, 32, 106, 117, 114, 121]], 12);
        m.dispose();
        return out;
      });
    expect(gen("Flash")).toEqual(gen("Baseline"));
  });

  it("GQA[kvHeads=heads] is bit-identical to MHA", () => {
    const x = ids(new Rng(1), 2, 9, 64);
    expect(logitsOf("GQA[kvHeads=4]", "tiny", x)).toEqual(logitsOf("MHA", "tiny", x));
    x.dispose();
  });

  for (const config of [
    "MHA",
    "GQA[kvHeads=2]",
    "MQA",
    "Paged[block=3]",
    "Flash[block=4]+MQA",
    "GQA+Paged[block=4]",
  ]) {
    it(`${config}: incremental decoding equals full recomputation`, () => {
      withLedger(new MemoryLedger(), () => {
        const rng = new Rng(5);
        const m = Transformer.create("tiny", parse(config), { seed: 2 });
        const seq = ids(rng, 2, 9, 64);
        const full = noGrad(() => m.forward(seq));
        const cache = m.createCache(2, 9);
        const sd = seq.int32;
        const steps: Float32Array[] = [];
        noGrad(() => {
          const p = tensor([...sd.subarray(0, 5), ...sd.subarray(9, 14)], [2, 5], { dtype: "i32" });
          m.forward(p, cache).dispose();
          p.dispose();
          for (let t = 5; t < 9; t++) {
            const step = tensor([sd[t]!, sd[9 + t]!], [2, 1], { dtype: "i32" });
            const l = m.forward(step, cache);
            steps.push(l.data.slice());
            l.dispose();
            step.dispose();
          }
        });
        const V = 64;
        const fd = full.data;
        steps.forEach((row, s) => {
          for (let b = 0; b < 2; b++)
            for (let j = 0; j < V; j++)
              expect(Math.abs(row[b * V + j]! - fd[(b * 9 + 5 + s) * V + j]!)).toBeLessThan(DECODE_TOL);
        });
        full.dispose();
        seq.dispose();
        cache.dispose();
        m.dispose();
      });
    });
  }

  it(`int8 and fp16 KV stay within ${KV_INT8_LOGIT_TOL} / ${KV_FP16_LOGIT_TOL} of f32 KV on small's logits`, () => {
    const decodeLogits = (config: string) =>
      withLedger(new MemoryLedger(), () => {
        const m = Transformer.create("small", parse(config), { seed: 4 });
        const rng = new Rng(9);
        const prompt = ids(rng, 1, 24, 256);
        const cache = m.createCache(1, 32);
        const rows: number[] = [];
        noGrad(() => {
          m.forward(prompt, cache).dispose();
          for (let t = 0; t < 6; t++) {
            const step = tensor([rng.int(256)], [1, 1], { dtype: "i32" });
            const l = m.forward(step, cache);
            rows.push(...l.data);
            l.dispose();
            step.dispose();
          }
        });
        prompt.dispose();
        cache.dispose();
        m.dispose();
        return Float32Array.from(rows);
      });
    const f32 = decodeLogits("KV[fp32]");
    expect(maxDiff(decodeLogits("KV[int8]"), f32)).toBeLessThan(KV_INT8_LOGIT_TOL);
    expect(maxDiff(decodeLogits("KV[fp16]"), f32)).toBeLessThan(KV_FP16_LOGIT_TOL);
  });

  for (const policy of ["Ckpt[sqrt]", "Ckpt[all]", "Ckpt[every=2]", "Ckpt[budget=200KiB]"]) {
    it(`${policy}: gradients are bit-identical to no checkpointing`, () => {
      const grads = (config: string) =>
        withLedger(new MemoryLedger(), () => {
          const m = Transformer.create("tiny", parse(config), { seed: 6 });
          const rng = new Rng(3);
          const x = ids(rng, 2, 16, 64);
          const y = ids(rng, 2, 16, 64);
          const loss = m.loss(x, y);
          backward(loss);
          loss.dispose();
          const out = m.parameters().map((p) => p.grad!.data.slice());
          for (const p of m.parameters()) p.grad?.dispose();
          x.dispose();
          y.dispose();
          m.dispose();
          return out;
        });
      const ref = grads("None");
      const got = grads(policy);
      expect(got.length).toBe(ref.length);
      for (const [i, g] of got.entries()) expect(g).toEqual(ref[i]);
    });
  }

  it("Ckpt[budget] keeps saved activations under its budget in the ledger (enforced), and None does not fit", () => {
    const step = (config: string, budget: number) =>
      withLedger(new MemoryLedger(), () => {
        const ledger = new MemoryLedger();
        return withLedger(ledger, () => {
          const m = Transformer.create("tiny", parse(config), { seed: 6 });
          const rng = new Rng(3);
          const x = ids(rng, 2, 16, 64);
          const y = ids(rng, 2, 16, 64);
          ledger.setBudget(budget, "act");
          try {
            const loss = m.loss(x, y);
            backward(loss);
            loss.dispose();
            return ledger.peak("act");
          } finally {
            ledger.setBudget(undefined, "act");
            for (const p of m.parameters()) p.grad?.dispose();
            x.dispose();
            y.dispose();
            m.dispose();
          }
        });
      });
    const none = step("None", Number.POSITIVE_INFINITY);
    const budget = Math.floor(none * 0.6);
    expect(step(`Ckpt[budget=${budget}]`, budget)).toBeLessThanOrEqual(budget);
    expect(() => step("None", budget)).toThrow(OutOfMemoryError);
  });
});

describe("estimator vs ledger for every configuration of the default suite (tiny)", () => {
  const suite = [...DEFAULT_SUITE, "KV[int8]"];
  for (const c of suite) {
    it(`${c}: weights, kv, grad and optim exact; act exact unless the plan says why`, () => {
      const spec = { model: "tiny" as const, config: parse(c), seed: 1 };
      const i = runInfer(spec, { batch: 2, prompt: 12, generate: 3 });
      const t = runTrain(spec, { batch: 2, seq: 16, steps: 1 });
      for (const k of ["weights", "adapters", "kv"] as const) expect(i.peak[k]).toBe(i.estimate.bytes[k]);
      for (const k of ["weights", "adapters", "grad", "optim"] as const)
        expect(t.peak[k]).toBe(t.estimate.bytes[k]);
      if (t.estimate.exact.act) expect(t.peak.act).toBe(t.estimate.bytes.act);
      else {
        expect(t.estimate.notes.some((n) => n.startsWith("act"))).toBe(true);
        expect(Math.abs(t.peak.act - t.estimate.bytes.act) / t.estimate.bytes.act).toBeLessThan(0.1);
      }
    });
  }
});

describe("estimator for published models under strategies", () => {
  it("GQA[kvHeads=8] on llama2-70b gives the published layout's KV; MQA cuts it 8× further", () => {
    const w = { kind: "infer" as const, batch: 1, seq: 4096, generate: 0 };
    const base = estimate("llama2-70b", parse("Baseline"), w).bytes.kv;
    expect(estimate("llama2-70b", parse("GQA[kvHeads=8]"), w).bytes.kv).toBe(base);
    expect(estimate("llama2-70b", parse("MQA"), w).bytes.kv).toBe(base / 8);
    expect(estimate("llama2-70b", parse("KV[int8]"), w).bytes.kv).toBe(4096 * 80 * 8 * 2 * (128 * 1 + 4));
  });
});
