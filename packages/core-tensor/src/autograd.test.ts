/**
 * Autograd: every differentiable op's gradient against central finite differences (`gradCheck`),
 * accumulation, no-grad mode, retained graphs, `grad()`, the ledger's view of saved tensors, graph
 * release without backward, and `checkpoint()` (bit-identical gradients, less `act`).
 */
import { describe, expect, it } from "vitest";
import { backward, checkpoint, detach, grad, isGradEnabled, noGrad, releaseGraph } from "./autograd.js";
import { ShapeError, TradeoffsError } from "./errors.js";
import { MemoryLedger, withLedger } from "./ledger.js";
import { add, addScalar, div, mul, scale, sub } from "./ops/binary.js";
import { embedding, gatherRows, scatterAddRows } from "./ops/gather.js";
import { concat, narrow, reshape, slice, transpose } from "./ops/layout.js";
import { maskedFill } from "./ops/masked-fill.js";
import { matmul } from "./ops/matmul.js";
import { layerNorm, rmsNorm } from "./ops/norm.js";
import { max, mean, sum } from "./ops/reduce.js";
import { rope } from "./ops/rope.js";
import { crossEntropy, logSoftmax, softmax } from "./ops/softmax.js";
import { abs, exp, gelu, log, neg, relu, rsqrt, sigmoid, silu, sqrt, square, tanh } from "./ops/unary.js";
import { Rng } from "./rng.js";
import { rand, randn, scope, type Tensor, tensor, zeros } from "./tensor.js";

/**
 * Finite differences in f32: with eps = 1e-2 the truncation error is O(eps²·f''') ≈ 1e-4 and the f32
 * rounding noise of the loss divided by 2·eps is ≈ 1e-5·|loss|, so 2e-3 absolute plus 1% relative
 * separates a correct gradient from a wrong one (a wrong one is off by O(1)).
 */
const GRAD_EPS = 1e-2;
const GRAD_ATOL = 2e-3;
const GRAD_RTOL = 1e-2;

interface GradCheckOptions {
  readonly eps?: number;
  readonly atol?: number;
  readonly rtol?: number;
  /** Which inputs to check (default: all that require grad). */
  readonly only?: readonly number[];
}

/**
 * Compare backward() with central differences of L = Σ fn(inputs) ⊙ R for a fixed random R (so
 * every output element matters). L is summed in f64 from the f32 outputs to keep noise low.
 */
function gradCheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): void {
  const eps = options.eps ?? GRAD_EPS;
  const atol = options.atol ?? GRAD_ATOL;
  const rtol = options.rtol ?? GRAD_RTOL;
  const L = new MemoryLedger();
  withLedger(L, () => {
    const rng = new Rng(99);
    const probe = scope(() => noGrad(() => fn(...inputs)));
    const R = randn(probe.shape, rng);
    probe.dispose();
    const lossOf = (): number =>
      scope(() =>
        noGrad(() => {
          const y = fn(...inputs).data;
          let s = 0;
          for (let i = 0; i < y.length; i++) s += y[i]! * R.data[i]!;
          return s;
        }),
      );
    for (const x of inputs) x.grad = null;
    const before = L.live();
    scope(() => {
      const y = fn(...inputs);
      backward(y, { grad: R });
    });
    const which = options.only ?? inputs.map((_, i) => i).filter((i) => inputs[i]!.requiresGrad);
    for (const k of which) {
      const x = inputs[k]!;
      expect(x.grad, `input ${k} got no gradient`).not.toBeNull();
      const g = x.grad!.data;
      const d = x.data;
      for (let i = 0; i < d.length; i++) {
        const v = d[i]!;
        d[i] = v + eps;
        const up = lossOf();
        d[i] = v - eps;
        const dn = lossOf();
        d[i] = v;
        const num = (up - dn) / (2 * eps);
        expect(
          Math.abs(g[i]! - num),
          `input ${k}[${i}]: analytic ${g[i]} vs numeric ${num}`,
        ).toBeLessThanOrEqual(atol + rtol * Math.abs(num));
      }
    }
    for (const x of inputs) {
      x.grad?.dispose();
      x.grad = null;
    }
    R.dispose();
    // Everything the graph saved and every temporary gradient is gone again.
    expect(L.live()).toBeLessThanOrEqual(before);
  });
}

const rng = new Rng(7);
const leaf = (shape: number[], s = 1) => randn(shape, rng, { std: s, requiresGrad: true });
const positive = (shape: number[]) => rand(shape, rng, { low: 0.5, high: 2, requiresGrad: true });
/** Values at least 0.1 away from 0 (for abs and relu, whose derivative jumps there). */
const awayFromZero = (shape: number[]) => {
  const t = leaf(shape);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.sign(d[i]! || 1) * (0.1 + Math.abs(d[i]!));
  return t;
};

describe("gradients match finite differences", () => {
  it("broadcasting binary ops and scalar ops", () => {
    gradCheck(add, [leaf([2, 3]), leaf([3])]);
    gradCheck(sub, [leaf([2, 1, 3]), leaf([4, 1])]);
    gradCheck(mul, [leaf([2, 3]), leaf([2, 1])]);
    gradCheck(div, [leaf([3, 2]), positive([2])]);
    const x = leaf([4]);
    gradCheck((a) => add(a, a), [x]); // the same tensor twice
    gradCheck((a) => mul(a, a), [x]);
    gradCheck((a) => scale(a, -2.5), [leaf([5])]);
    gradCheck((a) => addScalar(a, 3), [leaf([5])]);
  });

  it("unary ops", () => {
    const cases: [string, (t: Tensor) => Tensor, Tensor][] = [
      ["neg", neg, leaf([6])],
      ["exp", exp, leaf([6])],
      ["log", log, positive([6])],
      ["sqrt", sqrt, positive([6])],
      ["rsqrt", rsqrt, positive([6])],
      ["square", square, leaf([6])],
      ["abs", abs, awayFromZero([6])],
      ["tanh", tanh, leaf([6])],
      ["relu", relu, awayFromZero([6])],
      ["sigmoid", sigmoid, leaf([6])],
      ["silu", silu, leaf([6], 2)],
      ["gelu", gelu, leaf([6], 2)],
    ];
    for (const [, f, x] of cases) gradCheck(f, [x]);
  });

  it("matmul: every transpose combination, batched and broadcast batches", () => {
    for (const tA of [false, true])
      for (const tB of [false, true]) {
        const sa = (r: number, c: number, b: number[] = []) => leaf([...b, ...(tA ? [c, r] : [r, c])]);
        const sb = (r: number, c: number, b: number[] = []) => leaf([...b, ...(tB ? [c, r] : [r, c])]);
        const f = (a: Tensor, b: Tensor) => matmul(a, b, { transA: tA, transB: tB });
        gradCheck(f, [sa(3, 4), sb(4, 2)]);
        gradCheck(f, [sa(3, 4, [2]), sb(4, 2, [2])]);
        gradCheck(f, [sa(3, 4, [2, 2]), sb(4, 5)]); // b broadcast over a's batch
        gradCheck(f, [sa(1, 4), sb(4, 3, [3])]); // a broadcast, m = 1
      }
  });

  it("reductions", () => {
    gradCheck((x) => sum(x, 1), [leaf([2, 3, 2])]);
    gradCheck((x) => mean(x, 0, true), [leaf([3, 2])]);
    gradCheck((x) => sum(x), [leaf([2, 3])]);
    gradCheck((x) => mean(x), [leaf([2, 3])]);
    // max: distinct values so the arg-max does not change within ±eps.
    const m = tensor([0.1, 0.9, -0.5, 2, 1.2, 0.3], [2, 3], { requiresGrad: true });
    gradCheck((x) => max(x, 1), [m]);
    gradCheck((x) => max(x, 0, true), [m]);
  });

  it("row ops: softmax, log-softmax, RMSNorm, LayerNorm, RoPE", () => {
    gradCheck(softmax, [leaf([3, 5])]);
    gradCheck(logSoftmax, [leaf([3, 5])]);
    gradCheck((x, w) => rmsNorm(x, w), [leaf([3, 6]), leaf([6])]);
    gradCheck((x, w, b) => layerNorm(x, w, b), [leaf([3, 6]), leaf([6]), leaf([6])]);
    gradCheck((x) => rope(x, [3, 4, 5]), [leaf([2, 3, 4])]);
    gradCheck((x) => rope(x, [0, 1, 7, 8]), [leaf([2, 2, 2, 4])]);
  });

  it("gathers, scatters, cross-entropy and masking", () => {
    const ids = tensor([2, 0, 2], [3], { dtype: "i32" });
    gradCheck((t) => embedding(t, ids), [leaf([4, 3])]);
    gradCheck((x) => gatherRows(x, ids), [leaf([3, 2, 2])]);
    gradCheck((b, s) => scatterAddRows(b, ids, s), [leaf([3, 2]), leaf([3, 2])]);
    const targets = tensor([1, -1, 4, 0], [4], { dtype: "i32" });
    gradCheck((l) => crossEntropy(l, targets), [leaf([4, 5])]);
    gradCheck((l) => crossEntropy(reshape(l, [4, 5]), targets), [leaf([2, 2, 5])]);
    const mask = tensor([0, 1, 0], [3], { dtype: "u8" });
    gradCheck((x) => maskedFill(x, mask, -5), [leaf([2, 3])]);
  });

  it("layout ops: reshape, narrow, transpose, concat, slice", () => {
    gradCheck((x) => reshape(x, [3, -1]), [leaf([2, 3, 2])]);
    gradCheck((x) => narrow(x, 1, 3), [leaf([4, 2])]);
    gradCheck((x) => transpose(x), [leaf([2, 3, 4])]);
    gradCheck((x) => transpose(x, [2, 0, 1]), [leaf([2, 3, 4])]);
    gradCheck((a, b) => concat([a, b], 1), [leaf([2, 2, 3]), leaf([2, 1, 3])]);
    gradCheck((x) => slice(x, 1, 1, 3), [leaf([2, 4, 2])]);
  });

  it("a small network through checkpoint()", () => {
    const w1 = leaf([4, 4], 0.5);
    const w2 = leaf([4, 4], 0.5);
    gradCheck(
      (x, a, b) => checkpoint((h) => silu(matmul(tanh(matmul(h, a, { transB: true })), b)), [x]),
      [leaf([3, 4]), w1, w2],
    );
  });
});

describe("gradient bookkeeping", () => {
  it("gradients accumulate over two backward calls", () => {
    withLedger(new MemoryLedger(), () => {
      const x = leaf([3]);
      const f = () => scope(() => backward(sum(mul(x, x))));
      f();
      const g1 = Array.from(x.grad!.data);
      f();
      expect(Array.from(x.grad!.data)).toEqual(g1.map((v) => v * 2));
      expect(x.grad!.storage.category).toBe("grad");
    });
  });

  it("gradients that share storage (a view of one output gradient) do not bleed into each other", () => {
    withLedger(new MemoryLedger(), () => {
      const a = leaf([3]);
      const b = leaf([3]);
      // add's backward hands both inputs a view of the same gradient; a also gets a second term.
      scope(() => backward(sum(add(add(a, b), a))));
      expect(Array.from(a.grad!.data)).toEqual([2, 2, 2]);
      expect(Array.from(b.grad!.data)).toEqual([1, 1, 1]);
      scope(() => backward(sum(add(a, b))));
      expect(Array.from(a.grad!.data)).toEqual([3, 3, 3]);
      expect(Array.from(b.grad!.data)).toEqual([2, 2, 2]);
      const [ga, gb] = scope(() => grad(sum(add(reshape(a, [3]), b)), [a, b]));
      ga!.data[0] = 100;
      expect(gb!.data[0]).toBe(1);
    });
  });

  it("noGrad records nothing and saves nothing", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const x = leaf([8, 8]);
      const y = noGrad(() => {
        expect(isGradEnabled()).toBe(false);
        return exp(matmul(x, x));
      });
      expect(isGradEnabled()).toBe(true);
      expect(y.requiresGrad).toBe(false);
      expect(y.gradFn).toBeNull();
      expect(L.live("act")).toBe(0);
      expect(() => backward(sum(y))).toThrow(TradeoffsError);
      expect(() => backward(sum(y))).toThrow(/does not require grad/);
    });
  });

  it("retainGraph allows a second backward; without it the graph is released", () => {
    withLedger(new MemoryLedger(), () => {
      const x = leaf([4]);
      const loss = sum(exp(x));
      backward(loss, { retainGraph: true });
      backward(loss);
      const want = Array.from(x.data).map((v) => 2 * Math.exp(v));
      for (const [i, g] of x.grad!.data.entries()) expect(g).toBeCloseTo(want[i]!, 5);
      expect(() => backward(loss)).toThrow(/already released; pass \{ retainGraph: true \}/);
    });
  });

  it("grad() returns gradients without touching .grad, null for unrelated inputs", () => {
    withLedger(new MemoryLedger(), () => {
      const x = leaf([3]);
      const w = leaf([3]);
      const unrelated = leaf([2]);
      const loss = sum(mul(x, w));
      const [gx, gu] = grad(loss, [x, unrelated]);
      expect(Array.from(gx!.data)).toEqual(Array.from(w.data));
      expect(gu).toBeNull();
      expect(x.grad).toBeNull();
      expect(Array.from(w.grad!.data)).toEqual(Array.from(x.data)); // leaves not asked for still accumulate
    });
  });

  it("backward checks its seed", () => {
    withLedger(new MemoryLedger(), () => {
      const x = leaf([3]);
      const y = exp(x);
      expect(() => backward(y)).toThrow(/implicit grad needs a one-element output/);
      expect(() => backward(y, { grad: zeros([2]) })).toThrow(ShapeError);
      backward(y, { grad: tensor([1, 1, 1]) });
      expect(x.grad!.toArray()).toEqual(y.toArray());
    });
  });
});

describe("saved tensors in the ledger", () => {
  it("are charged to act while the graph holds them and released after backward", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const w = randn([16, 16], rng, { requiresGrad: true, category: "weights" });
      const x = randn([4, 16], rng);
      const start = L.live();
      scope(() => {
        const h = matmul(x, w, { transB: true }); // saves x (tmp→act) and w (a parameter: not moved)
        const y = silu(h); // saves h
        expect(L.live("act")).toBe(4 * 16 * 4 + 4 * 16 * 4);
        expect(L.live("weights")).toBe(16 * 16 * 4);
        expect(L.live("tmp")).toBe(4 * 16 * 4); // y; x and h moved to act
        backward(sum(y));
        expect(L.live("act")).toBe(0);
      });
      expect(L.live("act")).toBe(0);
      expect(L.live()).toBe(start + 16 * 16 * 4); // only w.grad is new
      expect(x.storage.category).toBe("tmp"); // moved back once the graph let go
    });
  });

  it("a forward in grad mode disposed without backward frees its saved tensors", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const w = leaf([8, 8]);
      const start = L.live();
      scope(() => {
        const y = silu(matmul(randn([4, 8], rng), w));
        const z = softmax(y);
        expect(L.live("act")).toBeGreaterThan(0);
        return z;
      }).dispose();
      expect(L.live("act")).toBe(0);
      expect(L.live()).toBe(start);
      // releaseGraph frees the saved tensors of a graph that is still referenced.
      const y = exp(square(w));
      expect(L.live("act")).toBeGreaterThan(0);
      releaseGraph(y);
      expect(L.live("act")).toBe(0);
      expect(() => backward(sum(y))).toThrow(/already released/);
    });
  });

  it("checkpoint() gives bit-identical gradients to the plain run and saves less act", () => {
    const layers = 4;
    const run = (useCkpt: boolean) => {
      const L = new MemoryLedger();
      return withLedger(L, () => {
        const r = new Rng(3);
        const ws = Array.from({ length: layers }, () => randn([16, 16], r, { std: 0.3, requiresGrad: true }));
        const g = randn([16], r, { requiresGrad: true }); // shared by every layer
        const x0 = randn([8, 16], r, { requiresGrad: true });
        const block = (h: Tensor, w: Tensor) => add(h, silu(rmsNorm(matmul(h, w, { transB: true }), g)));
        let actPeak = 0;
        scope(() => {
          let h = x0;
          for (const w of ws) h = useCkpt ? checkpoint((a) => block(a, w), [h]) : block(h, w);
          const loss = mean(square(h));
          actPeak = L.live("act");
          backward(loss);
        });
        expect(L.live("act")).toBe(0);
        return { grads: [...ws, g, x0].map((t) => Array.from(t.grad!.data)), actPeak };
      });
    };
    const plain = run(false);
    const ck = run(true);
    expect(ck.grads).toEqual(plain.grads);
    expect(ck.actPeak).toBeLessThan(plain.actPeak / 2);
  });

  it("detach cuts the history", () => {
    withLedger(new MemoryLedger(), () => {
      const x = leaf([3]);
      const d = detach(exp(x));
      expect(d.gradFn).toBeNull();
      expect(d.requiresGrad).toBe(false);
      expect(detach(x, true).requiresGrad).toBe(true);
    });
  });
});
