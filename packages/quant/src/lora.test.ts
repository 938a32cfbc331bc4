/**
 * LoRA against its oracle (the frozen base): a fresh adapter changes nothing; gradients reach only A
 * and B and match finite differences; the base gets none; ledger and plan bookkeeping; QLoRA.
 */
import {
  backward,
  getLedger,
  grad,
  mul,
  noGrad,
  parseConfig,
  Rng,
  randn,
  scope,
  sum,
  type Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import { expectClose, expectNoLeak, samplePlan } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { Fp32Linear } from "./fp32.js";
import { LoraLinear, lora } from "./lora.js";
import { nf4 } from "./nf4.js";
import { quantStrategies } from "./registry.js";

/** Central differences of a loss that is linear in each adapter matrix: exact up to f32 rounding. */
const FD_TOL = { atol: 2e-3, rtol: 2e-3 };
const FD_EPS = 1e-2;

/** LoRA on a random FP32 base W [out, inF] with a random B (≠ 0), so the update is live. */
function liveLora(rng: Rng, out: number, inF: number, rank: number, alpha: number): LoraLinear {
  const l = new LoraLinear(new Fp32Linear(randn([out, inF], rng), "weights/t"), { rank, alpha, rng });
  l.b.data.set(randn([out, rank], rng).data);
  return l;
}

describe("LoRA", () => {
  it("a fresh adapter (B = 0) leaves the base output unchanged, for FP32 and NF4 bases", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(1);
        const w = randn([12, 16], rng);
        const x = randn([2, 3, 16], rng);
        for (const base of [new Fp32Linear(w, "weights/t"), nf4().exec.pack(w, "weights/t")]) {
          const ref = base.apply(x).toArray();
          const wrapped = lora().exec.wrap(base, "q", rng);
          expect(wrapped.apply(x).toArray()).toEqual(ref);
          wrapped.dispose();
        }
      }),
    );
  });

  it("trains only A and B (category adapters); the FP32 base gets no gradient", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(2);
        const base = new Fp32Linear(randn([12, 16], rng), "weights/t");
        const before = getLedger().live("adapters");
        const l = lora({ rank: 4 }).exec.wrap(base, "v", rng) as LoraLinear;
        expect(getLedger().live("adapters") - before).toBe(4 * (4 * 16 + 12 * 4));
        expect(l.parameters()).toEqual([l.a, l.b]);
        expect(l.a.storage.category).toBe("adapters");
        expect(base.weight.requiresGrad).toBe(false);
        const x = randn([5, 16], rng);
        backward(sum(mul(l.apply(x), randn([5, 12], rng))));
        expect(base.weight.grad).toBeNull();
        expect(l.b.grad).not.toBeNull(); // dB = s·gᵀ·(x·Aᵀ) ≠ 0
        expect(l.a.grad).not.toBeNull(); // dA = s·(g·B)ᵀ·x = 0 while B = 0
        expect(l.a.grad!.toArray().every((v) => v === 0)).toBe(true);
        l.dispose();
      }),
    );
  });

  it("gradients of A and B match central finite differences (tiny case, B ≠ 0)", () => {
    scope(() => {
      const rng = new Rng(3);
      const l = liveLora(rng, 3, 5, 2, 3);
      const x = randn([4, 5], rng);
      const r = randn([4, 3], rng);
      const loss = () => noGrad(() => sum(mul(l.apply(x), r)).item());
      const [ga, gb] = grad(sum(mul(l.apply(x), r)), [l.a, l.b]);
      for (const [t, g] of [
        [l.a, ga],
        [l.b, gb],
      ] as [Tensor, Tensor][]) {
        const fd = new Float32Array(t.size);
        for (let i = 0; i < t.size; i++) {
          const v = t.data[i]!;
          t.data[i] = v + FD_EPS;
          const up = loss();
          t.data[i] = v - FD_EPS;
          const down = loss();
          t.data[i] = v;
          fd[i] = (up - down) / (2 * FD_EPS);
        }
        expectClose(g, fd, FD_TOL, "adapter gradient");
      }
      l.dispose();
    });
  });

  it("dequantize() merges the update: W + (alpha/rank)·B·A", () => {
    scope(() => {
      const rng = new Rng(4);
      const l = liveLora(rng, 6, 8, 2, 4);
      const x = randn([3, 8], rng);
      const w = l.dequantize().data;
      const ref = new Float32Array(18);
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 6; j++) {
          let s = 0;
          for (let k = 0; k < 8; k++) s += x.data[i * 8 + k]! * w[j * 8 + k]!;
          ref[i * 6 + j] = s;
        }
      expectClose(l.apply(x), ref, { atol: 1e-5, rtol: 1e-5 }, "merged");
      l.dispose();
    });
  });

  it("targets: the grammar names role sets; wrapping another role is a typed error", () => {
    expect(lora().exec.targets).toEqual(["q", "v"]);
    expect(lora({ targets: "all" }).exec.targets).toEqual(["q", "k", "v", "o", "gate", "up", "down"]);
    expect(lora({ targets: "ffn" }).exec.targets).toEqual(["gate", "up", "down"]);
    scope(() => {
      const base = new Fp32Linear(randn([2, 2], new Rng(1)), "weights/t");
      expect(() => lora().exec.wrap(base, "down", new Rng(1))).toThrow(ValueError);
      expect(() => lora().exec.wrap(base, "down", new Rng(1))).toThrow(/adapts q, v/);
      base.dispose();
    });
  });

  it("plan() sets adapters.{rank, targets} purely", () => {
    const p = samplePlan();
    expect(lora({ rank: 16, targets: "qkvo" }).plan(p).adapters).toEqual({
      rank: 16,
      targets: ["q", "k", "v", "o"],
    });
    expect(p.adapters).toBeNull();
  });
});

describe("QLoRA", () => {
  it("expands to NF4[dq=true] + LoRA and parses by name", () => {
    const cfg = parseConfig("QLoRA", quantStrategies);
    expect(cfg.get("weights")?.name).toBe("NF4");
    expect(cfg.get("weights")?.options.dq).toBe(true);
    expect(cfg.get("adapters")?.name).toBe("LoRA");
    expect(cfg.label).toBe("NF4[block=64,dq=true]+LoRA[rank=8,alpha=16,targets=qv]");
    const p = cfg.plan(samplePlan());
    expect(p.weights.format).toBe("NF4");
    expect(p.adapters?.targets).toEqual(["q", "v"]);
  });
});
