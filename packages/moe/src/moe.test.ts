import {
  add,
  backward,
  ConfigError,
  type FfnSpec,
  getLedger,
  matmul,
  mul,
  noGrad,
  Rng,
  randn,
  scope,
  sum,
  type Tensor,
} from "@tradeoffs/core-tensor";
import { fp32 } from "@tradeoffs/quant";
import { expectClose, expectNoLeak, samplePlan } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dense, makeLinear, SwiGlu } from "./dense.js";
import { expertCapacity } from "./dispatch.js";
import { MoeFfn, type MoeOptions, moe } from "./moe.js";
import { moeForwardNaive } from "./moe-naive.js";
import { moeParamCounts } from "./params.js";
import { routeTopK } from "./router.js";
import { upcycleDense } from "./upcycle.js";

/** MoE[experts=1,topK=1,capacity=inf] runs Dense's kernels on the same rows in the same order: exact. */
const DENSE_EQUIV_TOL = { atol: 0 };
/** Grouped batched experts vs the per-token oracle: f32 matmuls summed in another order (1-row GEMV). */
const NAIVE_TOL = { atol: 1e-5, rtol: 1e-4 };
/** Upcycled MoE vs its dense source: Σ_j g_j·y with Σ_j g_j = 1 up to f32 rounding. */
const UPCYCLE_TOL = { atol: 1e-6, rtol: 1e-5 };
/** Aux-loss value vs an f64 recomputation from the same router weights. */
const AUX_TOL = { atol: 1e-6, rtol: 1e-5 };
/** Central differences in f32 (no f64 reference here): relative error of each parameter's gradient. */
const FD_TOL = 2e-2;
/** Absolute floor for gradients that are (near) zero, e.g. of an expert no token chose. */
const FD_ATOL = 1e-4;
const FD_EPS = 1e-2;

const base: MoeOptions = {
  experts: 4,
  topK: 2,
  capacity: Number.POSITIVE_INFINITY,
  aux: 0,
  zloss: 0,
  shared: 0,
};

function spec(dModel: number, hidden: number, seed: number): FfnSpec {
  return {
    dModel,
    hidden,
    weights: fp32().exec,
    adapters: null,
    rng: new Rng(seed),
    category: "weights/ffn",
  };
}

/** An MoE block with N(0, std²) weights (larger than the 0.02 init, so outputs and gradients are O(1)). */
function tinyMoe(o: Partial<MoeOptions>, d = 6, h = 8, std = 0.3, seed = 11): MoeFfn {
  const options = { ...base, ...o };
  const rng = new Rng(seed);
  const w = fp32().exec;
  const swiglu = () =>
    new SwiGlu(
      makeLinear(h, d, std, w, null, "gate", rng, "weights/ffn"),
      makeLinear(h, d, std, w, null, "up", rng, "weights/ffn"),
      makeLinear(d, h, std, w, null, "down", rng, "weights/ffn"),
    );
  const experts = Array.from({ length: options.experts }, swiglu);
  const shared = Array.from({ length: options.shared }, swiglu);
  const router = randn([options.experts, d], rng, { std: 1, category: "weights/ffn" });
  return new MoeFfn({ router, experts, shared }, options);
}

function clearGrads(ps: readonly Tensor[]): void {
  for (const p of ps) {
    p.grad?.dispose();
    p.grad = null;
  }
}

describe("moe strategy", () => {
  it("has documented defaults and a canonical label", () => {
    expect(moe().label).toBe("MoE[experts=8,topK=2,capacity=inf]");
    expect(moe({ capacity: 1.25, shared: 1 }).label).toBe("MoE[experts=8,topK=2,capacity=1.25,shared=1]");
    expect(moe().options).toEqual({
      experts: 8,
      topK: 2,
      capacity: Number.POSITIVE_INFINITY,
      aux: 0.01,
      zloss: 0,
      shared: 0,
    });
  });

  it("plans experts, topK, capacity and shared experts without touching the input", () => {
    const p = samplePlan();
    const q = moe({ experts: 16, topK: 4, capacity: 1.5, shared: 2 }).plan(p);
    expect(q.arch).toMatchObject({ experts: 16, topK: 4, capacity: 1.5, sharedExperts: 2 });
    expect(p.arch.experts).toBe(1);
  });

  it("reports every bad option at once with the value and what is valid", () => {
    let err: unknown;
    try {
      moe({ experts: 2, topK: 3, capacity: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/topK=3 exceeds experts=2; use topK in 1\.\.2/);
    expect(msg).toMatch(/capacity=0 must be > 0/);
  });
});

describe("MoeFfn", () => {
  it("MoE[experts=1,topK=1,capacity=inf] equals Dense with the same weights, outputs and gradients", () => {
    expectNoLeak(() => {
      const d = dense().exec.create(spec(16, 24, 5));
      const m = moe({ experts: 1, topK: 1, aux: 0 }).exec.create(spec(16, 24, 5));
      scope(() => {
        const x = randn([2, 5, 16], new Rng(6));
        const w = randn([2, 5, 16], new Rng(7));
        const yd = d.forward(x);
        const ym = m.forward(x);
        expectClose(ym, yd, DENSE_EQUIV_TOL, "MoE(1 expert) vs Dense");
        backward(sum(mul(yd, w)));
        backward(sum(mul(ym, w)));
      });
      const pd = d.parameters();
      const pm = m.parameters().slice(0, 3); // experts.0.{gate,up,down}; the router comes last
      for (let i = 0; i < 3; i++) expectClose(pm[i]!.grad!, pd[i]!.grad!, DENSE_EQUIV_TOL, `grad ${i}`);
      clearGrads([...pd, ...m.parameters()]);
      d.dispose();
      m.dispose();
    });
  });

  for (const o of [
    { experts: 4, topK: 2 },
    { experts: 4, topK: 2, capacity: 0.5 },
    { experts: 3, topK: 1, capacity: 1, shared: 1 },
    { experts: 5, topK: 3, capacity: 1.25, shared: 2 },
  ] satisfies Partial<MoeOptions>[]) {
    it(`grouped experts equal the per-token oracle for ${JSON.stringify(o)}`, () => {
      expectNoLeak(() => {
        const m = tinyMoe(o);
        noGrad(() =>
          scope(() => {
            const x = randn([3, 7, 6], new Rng(2));
            const y = m.forward(x);
            expect(y.shape).toEqual([3, 7, 6]);
            expectClose(y, moeForwardNaive(m, x), NAIVE_TOL, "MoE vs per-token oracle");
            if (o.capacity !== undefined && o.capacity < 1) expect(m.stats().dropped).toBeGreaterThan(0);
          }),
        );
        m.dispose();
      });
    });
  }

  it("stats: per-expert load stays within the capacity bound; dropless drops nothing (property)", () => {
    const m8 = tinyMoe({ experts: 8, topK: 2 }, 8, 8, 0.3, 3);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.option(fc.double({ min: 0.1, max: 3, noNaN: true }), { nil: undefined }),
        fc.integer({ min: 0, max: 1000 }),
        (N, c, seed) => {
          const m =
            c === undefined
              ? m8
              : new MoeFfn(
                  { router: m8.router, experts: m8.experts, shared: [] },
                  { ...m8.options, capacity: c },
                );
          noGrad(() => scope(() => m.forward(randn([N, 8], new Rng(seed)))));
          const s = m.stats();
          const bound = expertCapacity(N, 2, 8, c ?? Number.POSITIVE_INFINITY);
          expect(s.tokens).toBe(N);
          expect(s.routedPerExpert.reduce((a, b) => a + b, 0)).toBe(N * 2);
          for (const n of s.tokensPerExpert) expect(n).toBeLessThanOrEqual(bound);
          expect(s.tokensPerExpert.reduce((a, b) => a + b, 0) + s.dropped).toBe(N * 2);
          if (c === undefined) expect(s.dropped).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
    m8.dispose();
  });

  it("auxLoss is aux·E·Σ f_e·P_e + zloss·mean(logsumexp²), null without grad or weights", () => {
    expectNoLeak(() => {
      const m = tinyMoe({ experts: 4, topK: 2, aux: 0.1, zloss: 0.01 });
      scope(() => {
        const x = randn([9, 6], new Rng(4));
        noGrad(() => m.forward(x));
        expect(m.auxLoss()).toBeNull();
        m.forward(x);
        const got = m.auxLoss()!.item();
        // f64 recomputation
        const { experts: E, topK: k } = m.options;
        const xd = x.data;
        const wr = m.router.data;
        const P = new Array<number>(E).fill(0);
        let z = 0;
        for (let t = 0; t < 9; t++) {
          const l = Array.from({ length: E }, (_, e) => {
            let s = 0;
            for (let i = 0; i < 6; i++) s += xd[t * 6 + i]! * wr[e * 6 + i]!;
            return s;
          });
          const mx = Math.max(...l);
          const zs = l.reduce((a, v) => a + Math.exp(v - mx), 0);
          l.forEach((v, e) => {
            P[e]! += Math.exp(v - mx) / zs / 9;
          });
          z += (mx + Math.log(zs)) ** 2 / 9;
        }
        const routed = m.stats().routedPerExpert;
        const lb = E * P.reduce((a, p, e) => a + p * (routed[e]! / (9 * k)), 0);
        expectClose([got], [0.1 * lb + 0.01 * z], AUX_TOL, "aux loss");
      });
      const silent = tinyMoe({ aux: 0, zloss: 0 });
      scope(() => {
        silent.forward(randn([3, 6], new Rng(1)));
      });
      expect(silent.auxLoss()).toBeNull();
      clearGrads([...m.parameters(), ...silent.parameters()]);
      silent.dispose();
      m.dispose();
    });
  });

  it("gradients of router, experts, shared experts and input match central differences", () => {
    expectNoLeak(() => {
      const m = tinyMoe({ experts: 4, topK: 2, aux: 0.1, zloss: 0.01, shared: 1 });
      const rng = new Rng(21);
      const x = randn([5, 6], rng, { requiresGrad: true });
      const wOut = randn([5, 6], rng);
      const loss = (): Tensor => {
        const y = m.forward(x);
        const main = sum(mul(y, wOut));
        const aux = m.auxLoss();
        return aux ? add(main, aux) : main;
      };
      scope(() => backward(loss()));
      const routing = () =>
        noGrad(() =>
          scope(() => Array.from(routeTopK(matmul(x, m.router, { transB: true }), 2).indices.int32)),
        );
      const base0 = routing();
      let skipped = 0;
      let checked = 0;
      for (const p of [...m.parameters(), x]) {
        const an = p.grad!.toArray();
        const fd: number[] = [];
        const pd = p.data;
        for (let i = 0; i < pd.length; i++) {
          const v = pd[i]!;
          pd[i] = v + FD_EPS;
          const flipped = routing().join() !== base0.join();
          const lp = scope(() => loss().item());
          pd[i] = v - FD_EPS;
          const flippedMinus = routing().join() !== base0.join();
          const lm = scope(() => loss().item());
          pd[i] = v;
          if (flipped || flippedMinus) {
            skipped++; // top-k is piecewise: skip coordinates whose ±ε changes the routing
            fd.push(an[i]!);
          } else {
            checked++;
            fd.push((lp - lm) / (2 * FD_EPS));
          }
        }
        let errSq = 0;
        let refSq = 0;
        for (let i = 0; i < an.length; i++) {
          errSq += (fd[i]! - an[i]!) ** 2;
          refSq += an[i]! ** 2;
        }
        expect(Math.sqrt(errSq)).toBeLessThanOrEqual(FD_TOL * Math.sqrt(refSq) + FD_ATOL);
      }
      expect(skipped).toBeLessThan(checked / 10);
      clearGrads([...m.parameters(), x]);
      x.dispose();
      wOut.dispose();
      m.dispose();
    });
  });

  it("charges E experts and the router to weights/ffn: the bytes moeParamCounts predicts", () => {
    expectNoLeak(() => {
      const before = getLedger().live("weights/ffn");
      const m = moe({ experts: 8, topK: 2, shared: 1 }).exec.create(spec(16, 32, 1));
      const counts = moeParamCounts({
        layers: 1,
        dModel: 16,
        ffnHidden: 32,
        ffnKind: "swiglu",
        biases: false,
        experts: 8,
        topK: 2,
        sharedExperts: 1,
      });
      expect(getLedger().live("weights/ffn") - before).toBe(4 * counts.total);
      expect([...m.namedWeights().keys()]).toContain("experts.7.down");
      expect([...m.namedWeights().keys()]).toContain("shared.0.gate");
      expect([...m.namedWeights().keys()]).toContain("router");
      m.dispose();
    });
  });

  it("frees every tensor of a training step and of inference (aux loss included)", () => {
    expectNoLeak(() => {
      const m = moe({ experts: 4, topK: 2, capacity: 1, zloss: 0.001, shared: 1 }).exec.create(
        spec(16, 32, 2),
      ) as MoeFfn;
      scope(() => {
        const y = m.forward(randn([3, 4, 16], new Rng(3)));
        backward(add(sum(y), m.auxLoss()!));
      });
      clearGrads(m.parameters());
      const live = getLedger().live();
      noGrad(() =>
        scope(() => {
          m.forward(randn([2, 16], new Rng(4)));
        }),
      );
      expect(getLedger().live()).toBe(live - 4); // the last training forward's aux scalar is freed too
      m.dispose();
    });
  });

  it("upcycles a dense block: every expert a copy, the same function at init", () => {
    expectNoLeak(() => {
      const s = spec(16, 24, 8);
      const d = SwiGlu.create(s);
      const m = upcycleDense(d, s, { ...base, experts: 4, topK: 2 });
      noGrad(() =>
        scope(() => {
          const x = randn([10, 16], new Rng(9));
          expectClose(m.forward(x), d.forward(x), UPCYCLE_TOL, "upcycled vs dense");
        }),
      );
      expect(m.experts[3]!.namedWeights().get("up")).not.toBe(d.up);
      m.dispose();
      d.dispose();
    });
  });
});
