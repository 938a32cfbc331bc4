import {
  backward,
  getLedger,
  Rng,
  type Rng as RngT,
  randn,
  scope,
  sum,
  type Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import { expectNoLeak, samplePlan, strategyContract, weightsContract } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { int8, int8Format } from "./int8.js";
import { LlmInt8Linear, llmInt8, MODELLED_OUTLIERS_PER_4096, modelledOutlierColumns } from "./llm-int8.js";
import { PackedLinear } from "./packed-linear.js";
import { quantStrategies } from "./registry.js";

// threshold 0: every non-zero feature column takes the f32 path, so apply is x · dequantize(W)ᵀ
// summed in f32 (64 products): rounding only. The contracts' exec check assumes weight-only
// quantisation (apply ≈ x · dequantize(W)ᵀ), which any finite threshold > 0 breaks by design.
strategyContract([llmInt8({ threshold: 0 })], quantStrategies, "weights");
weightsContract(llmInt8({ threshold: 0 }), { atol: 1e-5, rtol: 1e-5 });

const [N, K, M] = [24, 96, 7];

/** x [M, K] ~ N(0, 1) with column `c` scaled to ±20 in every row (a planted outlier feature). */
function inputs(rng: RngT, outlierCols: readonly number[] = []): Tensor {
  const x = randn([M, K], rng);
  for (const c of outlierCols) for (let i = 0; i < M; i++) x.data[i * K + c] = i % 2 ? 20 : -20;
  return x;
}

/** Exact product in f64 of x [M, K] and w [N, K]ᵀ. */
function exact(x: Float32Array, w: Float32Array): Float64Array {
  const y = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let a = 0;
      for (let k = 0; k < K; k++) a += x[i * K + k]! * w[j * K + k]!;
      y[i * N + j] = a;
    }
  return y;
}

const absmax = (a: Float32Array, o: number, n: number, skip: (k: number) => boolean = () => false) => {
  let m = 0;
  for (let k = 0; k < n; k++) if (!skip(k)) m = Math.max(m, Math.abs(a[o + k]!));
  return m;
};

describe("LLMInt8", () => {
  it("stays within the derived bound of the FP32 product, and the outlier column costs int8 nothing", () => {
    // Derivation. Round-to-nearest absmax codes: |w − ŵ| ≤ sw_j / 2 with sw_j = absmax(W_j)/127, and
    // for a regular column |x − x̂| ≤ sx_i / 2 with sx_i = absmax over row i's regular columns / 127
    // (no clipping: every |x| ≤ 127·sx). Outlier columns keep x exact. Then
    //   |y − ŷ| = |Σ_k x(w − ŵ) + (x − x̂)ŵ| ≤ (sw_j/2)·Σ_k |x_ik| + (sx_i/2)·Σ_{k∉O} |ŵ_jk|,
    // plus f32 rounding of the result (≤ K·2⁻²⁴ relative to Σ|x||ŵ| for the f32 outlier GEMM).
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(11);
        const w = randn([N, K], rng, { std: 0.05 });
        const x = inputs(rng, [5, 60]);
        const layer = llmInt8().exec.pack(w, "weights/test") as LlmInt8Linear;
        const y = layer.apply(x).data;
        const ref = exact(x.data, w.data);
        const wq = layer.dequantize().data;
        expect(layer.stats).toEqual({ rows: M, columns: K, outlierColumns: 2, outlierFraction: 2 / K });
        let worst = 0;
        for (let i = 0; i < M; i++) {
          const outlier = (k: number) => k === 5 || k === 60;
          const sx = absmax(x.data, i * K, K, outlier) / 127;
          for (let j = 0; j < N; j++) {
            const sw = absmax(w.data, j * K, K) / 127;
            let sxAbs = 0;
            let swAbs = 0;
            let mag = 0;
            for (let k = 0; k < K; k++) {
              sxAbs += Math.abs(x.data[i * K + k]!);
              if (!outlier(k)) swAbs += Math.abs(wq[j * K + k]!);
              mag += Math.abs(x.data[i * K + k]! * wq[j * K + k]!);
            }
            const bound = (sw / 2) * sxAbs + (sx / 2) * swAbs + K * 2 ** -24 * mag;
            const err = Math.abs(y[i * N + j]! - ref[i * N + j]!);
            expect(err).toBeLessThanOrEqual(bound);
            worst = Math.max(worst, err / bound);
          }
        }
        // The bound is not slack by orders of magnitude: some entry uses a visible part of it.
        expect(worst).toBeGreaterThan(0.05);
        // The activation part of the error (against x · Ŵᵀ): without the decomposition the ±20
        // columns set sx_i, ~8× the regular absmax, and that error grows several-fold.
        const plain = llmInt8({ threshold: Number.POSITIVE_INFINITY }).exec.pack(w, "weights/test");
        const yp = plain.apply(x).data;
        const refQ = exact(x.data, wq);
        const rms = (a: ArrayLike<number>) =>
          Math.sqrt(Array.from(a, (v, i) => (v - refQ[i]!) ** 2).reduce((s, v) => s + v, 0) / a.length);
        expect(rms(yp)).toBeGreaterThan(4 * rms(y));
        layer.dispose();
        plain.dispose();
      }),
    );
  });

  it("threshold=inf is plain int8 × int8 with vector-wise scales, exactly", () => {
    scope(() => {
      const rng = new Rng(12);
      const w = randn([N, K], rng, { std: 0.05 });
      const x = inputs(rng, [3]);
      const layer = llmInt8({ threshold: Number.POSITIVE_INFINITY }).exec.pack(w, "weights/test");
      const y = layer.apply(x).data;
      // Independent reference: quantise each row of W and of x by its absmax, integer dot, rescale.
      const q = (a: Float32Array, o: number) => {
        const s = Math.fround(absmax(a, o, K) / 127);
        return { s, c: Array.from({ length: K }, (_, k) => (s === 0 ? 0 : Math.round(a[o + k]! / s))) };
      };
      for (let i = 0; i < M; i++) {
        const qx = q(x.data, i * K);
        for (let j = 0; j < N; j++) {
          const qw = q(w.data, j * K);
          let acc = 0;
          for (let k = 0; k < K; k++) acc += qx.c[k]! * qw.c[k]!;
          expect(Number.isInteger(acc) && Math.abs(acc) < 2 ** 31).toBe(true);
          expect(y[i * N + j]).toBe(Math.fround(acc * qx.s * qw.s));
        }
      }
      expect((layer as LlmInt8Linear).stats?.outlierColumns).toBe(0);
    });
  });

  it("threshold=0 is the f32 product with the stored weight (INT8[group=0]'s), within float rounding", () => {
    scope(() => {
      const rng = new Rng(13);
      const w = randn([N, K], rng, { std: 0.05 });
      const x = inputs(rng);
      const y = llmInt8({ threshold: 0 }).exec.pack(w, "weights/test").apply(x).data;
      const weightOnly = new PackedLinear(int8Format({ group: 0 }), w, "weights/test").apply(x).data;
      for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - weightOnly[i]!)).toBeLessThan(1e-5);
    });
  });

  it("dX = g · Ŵ (straight through the activation quantisation); the weight gets no gradient", () => {
    scope(() => {
      const rng = new Rng(14);
      const w = randn([N, K], rng, { std: 0.05 });
      const layer = llmInt8().exec.pack(w, "weights/test");
      const x = randn([M, K], rng, { requiresGrad: true });
      backward(sum(layer.apply(x)));
      const wq = layer.dequantize().data;
      for (let k = 0; k < K; k++) {
        let colSum = 0;
        for (let j = 0; j < N; j++) colSum += wq[j * K + k]!;
        for (let i = 0; i < M; i++) expect(x.grad!.data[i * K + k]).toBeCloseTo(colSum, 5);
      }
      expect(layer.parameters()).toEqual([]);
      expect(layer.f32Weight()).toBeNull();
    });
  });

  it("stores INT8[group=0]'s bytes and keeps running outlier totals", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(15);
        const w = randn([N, K], rng);
        const before = getLedger().live("weights");
        const layer = new LlmInt8Linear(w, "weights/test", 6);
        expect(layer.bytes).toBe(int8Format({ group: 0 }).bytesFor(N, K));
        expect(getLedger().live("weights") - before).toBe(N * K + 4 * N);
        layer.apply(inputs(rng, [1]));
        layer.apply(inputs(rng, [2, 4]));
        expect(layer.totals()).toEqual({
          applies: 2,
          meanOutlierFraction: (1 / K + 2 / K) / 2,
          columnsEverOutlier: 3,
          columns: K,
        });
        layer.resetStats();
        expect(layer.stats).toBeNull();
        layer.dispose();
      }),
    );
  });

  it("plans INT8's exact bytes and the outlier path's workspace", () => {
    const p = llmInt8().plan(samplePlan());
    expect(p.weights.bytesFor(4096, 11008)).toBe(int8().plan(samplePlan()).weights.bytesFor(4096, 11008));
    expect(p.weights.bytesFor(4096, 11008)).toBe(4096 * 11008 + 4 * 4096);
    expect(p.weights.trainable).toBe(false);
    expect(p.weights.workspaceElements(11008, 4096)).toBe(11008 * MODELLED_OUTLIERS_PER_4096);
    expect(p.weights.workspaceNote).toMatch(/outlier/);
    expect(modelledOutlierColumns(4096, Number.POSITIVE_INFINITY)).toBe(0);
    expect(modelledOutlierColumns(4096, 0)).toBe(4096);
    expect(llmInt8({ threshold: 0 }).plan(samplePlan()).weights.workspaceElements(8, 16)).toBe(128);
  });

  it("labels and rejects a bad threshold with the value", () => {
    expect(llmInt8().label).toBe("LLMInt8[threshold=6]");
    expect(() => llmInt8({ threshold: -1 })).toThrow(/threshold/);
    expect(() => new LlmInt8Linear(randn([2, 2], new Rng(1)), "weights/test", Number.NaN)).toThrow(
      ValueError,
    );
  });
});
