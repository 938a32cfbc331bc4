/**
 * Forward ops against naive oracles written here from the textbook formulas (index-based loops in
 * f64). Each comparison uses a named tolerance; gradients are tested in autograd.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DTypeError, ShapeError, ValueError } from "./errors.js";
import { MemoryLedger, withLedger } from "./ledger.js";
import {
  add,
  argmax,
  concat,
  crossEntropy,
  div,
  embedding,
  gatherRows,
  gelu,
  layerNorm,
  logSoftmax,
  maskedFill,
  matmul,
  max,
  mean,
  mul,
  rmsNorm,
  rope,
  scatterAddRows,
  silu,
  slice,
  softmax,
  sub,
  sum,
  topk,
} from "./ops.js";
import { Rng } from "./rng.js";
import { randn, scope, type Tensor, tensor, zeros } from "./tensor.js";

/** f32 results of f64 formulas: a few ulps of the output (relative) plus a tiny absolute floor. */
const ELEMENTWISE_TOL = 1e-6;
/** Row ops (norms, softmax, RoPE) sum over a row in f64 then round: still a few f32 ulps. */
const ROW_TOL = 2e-6;
/** Matmul through ops vs an f64 triple loop, relative to Σ|a||b| (see kernels/matmul.test.ts). */
const MATMUL_TOL = 1e-6;

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what = ""): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      expect(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `${what} [${i}] ${g} vs ${w}`).toBe(
        true,
      );
      continue;
    }
    expect(Math.abs(g - w), `${what} [${i}] ${g} vs ${w}`).toBeLessThanOrEqual(
      tol * Math.max(1, Math.abs(w)),
    );
  }
}

function withFresh<T>(fn: (L: MemoryLedger) => T): T {
  const L = new MemoryLedger();
  return withLedger(L, () => scope(() => fn(L)));
}

const rng = new Rng(2024);
const rnd = (shape: number[], s = 1) => randn(shape, rng, { std: s });

// ---------------------------------------------------------------------------------------------

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1]! * shape[d + 1]!;
  return s;
}

/** Broadcast by index arithmetic: for each output index, read each operand at its (clamped) index. */
function naiveBroadcast(
  f: (x: number, y: number) => number,
  a: Float32Array,
  as: number[],
  b: Float32Array,
  bs: number[],
): { shape: number[]; data: number[] } {
  const r = Math.max(as.length, bs.length);
  const pa = [...Array(r - as.length).fill(1), ...as];
  const pb = [...Array(r - bs.length).fill(1), ...bs];
  const shape = pa.map((d, i) => Math.max(d, pb[i]!));
  const st = stridesOf(shape);
  const sa = stridesOf(pa);
  const sb = stridesOf(pb);
  const n = shape.reduce((p, d) => p * d, 1);
  const data: number[] = [];
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < r; d++) {
      const idx = Math.floor(i / st[d]!) % shape[d]!;
      ia += (pa[d] === 1 ? 0 : idx) * sa[d]!;
      ib += (pb[d] === 1 ? 0 : idx) * sb[d]!;
    }
    data.push(Math.fround(f(a[ia]!, b[ib]!)));
  }
  return { shape, data };
}

/** Pairs of broadcast-compatible shapes: a random output shape, each operand dropping or 1-ing axes. */
const broadcastPair = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 })
  .chain((out) =>
    fc
      .tuple(
        fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
        fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
        fc.nat(out.length),
        fc.nat(out.length),
      )
      .map(([ma, mb, da, db]) => [
        out.slice(da).map((d, i) => (ma[i + da] ? 1 : d)),
        out.slice(db).map((d, i) => (mb[i + db] ? 1 : d)),
      ]),
  );

describe("elementwise with broadcasting", () => {
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
    ["add", add, (x, y) => x + y],
    ["sub", sub, (x, y) => x - y],
    ["mul", mul, (x, y) => x * y],
    ["div", div, (x, y) => x / y],
  ];
  it("matches an index-based oracle over broadcastable shape pairs (property)", () => {
    fc.assert(
      fc.property(broadcastPair, fc.nat(3), ([as, bs], k) => {
        withFresh(() => {
          const [name, op, f] = ops[k]!;
          const a = rnd(as!);
          const b = rnd(bs!);
          const got = op(a, b);
          const want = naiveBroadcast(f, a.data, as!, b.data, bs!);
          expect(got.shape, name).toEqual(want.shape);
          expectNear(got.data, want.data, ELEMENTWISE_TOL, name);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("rejects shapes that do not broadcast, naming both", () => {
    withFresh(() => {
      expect(() => add(zeros([2, 3]), zeros([2]))).toThrow(/shapes \[2,3\] and \[2\] do not broadcast/);
    });
  });

  it("checks dtypes before allocating (no leaked bytes on a DTypeError)", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const x = zeros([4]);
      const i = zeros([4], { dtype: "i32" });
      const mask = zeros([4], { dtype: "u8" });
      const i2 = zeros([2, 4], { dtype: "i32" });
      const start = L.live();
      const calls: (() => unknown)[] = [
        () => add(x, i),
        () => silu(i),
        () => softmax(i),
        () => rmsNorm(i, x),
        () => layerNorm(i, x, x),
        () => max(i, 0),
        () => topk(i, 1),
        () => argmax(i),
        () => concat([x, i]),
        () => slice(i, 0, 0, 1),
        () => maskedFill(i, mask, 0),
        () => rope(i2, [0, 1]),
      ];
      for (const c of calls) expect(c).toThrow(DTypeError);
      expect(L.live()).toBe(start);
    });
  });
});

describe("reductions", () => {
  it("sum, mean and max over each axis match loops", () => {
    withFresh(() => {
      const shape = [3, 4, 5];
      const x = rnd(shape);
      const d = x.data;
      for (let axis = 0; axis < 3; axis++) {
        const outShape = shape.filter((_, i) => i !== axis);
        const [o0, o1] = outShape as [number, number];
        const s: number[] = [];
        const mx: number[] = [];
        for (let i = 0; i < o0; i++)
          for (let j = 0; j < o1; j++) {
            let acc = 0;
            let m = Number.NEGATIVE_INFINITY;
            for (let r = 0; r < shape[axis]!; r++) {
              const idx = [i, j];
              idx.splice(axis, 0, r);
              const v = d[idx[0]! * 20 + idx[1]! * 5 + idx[2]!]!;
              acc += v;
              m = Math.max(m, v);
            }
            s.push(acc);
            mx.push(m);
          }
        expectNear(sum(x, axis).data, s, ELEMENTWISE_TOL, `sum ${axis}`);
        expectNear(
          mean(x, axis).data,
          s.map((v) => v / shape[axis]!),
          ELEMENTWISE_TOL,
          `mean ${axis}`,
        );
        expect(Array.from(max(x, axis).data)).toEqual(mx);
        expect(sum(x, axis, true).shape).toEqual(shape.map((v, i) => (i === axis ? 1 : v)));
      }
      expect(sum(x, -1).shape).toEqual([3, 4]);
      expectNear(sum(x).data, [d.reduce((p, v) => p + v, 0)], ELEMENTWISE_TOL);
      expect(sum(x).shape).toEqual([]);
      expect(mean(x, undefined, true).shape).toEqual([1, 1, 1]);
      expect(() => sum(x, 3)).toThrow(/axis 3 is out of range for rank 3/);
    });
  });
});

describe("softmax and log-softmax", () => {
  it("softmax rows are non-negative and sum to 1 (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.float({ min: -80, max: 80, noNaN: true }), { minLength: 1, maxLength: 12 }), {
          minLength: 1,
          maxLength: 4,
        }),
        (rowsIn) => {
          const cols = rowsIn[0]!.length;
          const rows = rowsIn.map((r) => Array.from({ length: cols }, (_, j) => r[j % r.length]!));
          withFresh(() => {
            const y = softmax(tensor(rows.flat(), [rows.length, cols])).data;
            for (let r = 0; r < rows.length; r++) {
              let s = 0;
              for (let j = 0; j < cols; j++) {
                expect(y[r * cols + j]).toBeGreaterThanOrEqual(0);
                s += y[r * cols + j]!;
              }
              expect(Math.abs(s - 1)).toBeLessThanOrEqual(cols * ROW_TOL);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("matches exp(x)/Σexp(x) and stays finite for huge inputs", () => {
    withFresh(() => {
      const x = rnd([3, 7], 3);
      const want: number[] = [];
      const wantLog: number[] = [];
      for (let r = 0; r < 3; r++) {
        const row = Array.from(x.data.subarray(r * 7, r * 7 + 7));
        const z = row.reduce((p, v) => p + Math.exp(v), 0);
        for (const v of row) {
          want.push(Math.exp(v) / z);
          wantLog.push(v - Math.log(z));
        }
      }
      expectNear(softmax(x).data, want, ROW_TOL);
      expectNear(logSoftmax(x).data, wantLog, ROW_TOL);
      const huge = tensor([1e30, 1e30 - 1e24, -1e30, 3e38, 2e38, 0], [2, 3]);
      const ls = logSoftmax(huge).data;
      expect(Array.from(ls).every(Number.isFinite)).toBe(true);
      expect(ls[0]).toBeCloseTo(-Math.log(1 + Math.exp(-1e24)), 6);
      expect(ls[3]).toBe(0);
      expect(softmax(huge).data[3]).toBe(1);
      // A fully masked row gives zeros, not NaN.
      expect(Array.from(softmax(tensor([-Infinity, -Infinity], [1, 2])).data)).toEqual([0, 0]);
    });
  });
});

describe("norms and activations", () => {
  it("RMSNorm and LayerNorm match their formulas", () => {
    withFresh(() => {
      const x = rnd([4, 6], 2);
      const w = rnd([6]);
      const b = rnd([6]);
      const eps = 1e-5;
      const rms: number[] = [];
      const ln: number[] = [];
      for (let r = 0; r < 4; r++) {
        const row = Array.from(x.data.subarray(r * 6, r * 6 + 6));
        const ms = row.reduce((p, v) => p + v * v, 0) / 6;
        const mu = row.reduce((p, v) => p + v, 0) / 6;
        const va = row.reduce((p, v) => p + (v - mu) ** 2, 0) / 6;
        row.forEach((v, j) => {
          rms.push((v / Math.sqrt(ms + eps)) * w.data[j]!);
          ln.push(((v - mu) / Math.sqrt(va + eps)) * w.data[j]! + b.data[j]!);
        });
      }
      expectNear(rmsNorm(x, w, eps).data, rms, ROW_TOL);
      expectNear(layerNorm(x, w, b, eps).data, ln, ROW_TOL);
      expect(() => rmsNorm(x, rnd([5]))).toThrow(ShapeError);
      expect(() => layerNorm(x, w, rnd([5]))).toThrow(ShapeError);
    });
  });

  it("SiLU is x·σ(x) and GELU is the tanh approximation", () => {
    withFresh(() => {
      const x = tensor([-30, -3, -1, -0.5, 0, 0.5, 1, 3, 30]);
      const xs = Array.from(x.data);
      expectNear(
        silu(x).data,
        xs.map((v) => v / (1 + Math.exp(-v))),
        ELEMENTWISE_TOL,
      );
      const k = Math.sqrt(2 / Math.PI);
      expectNear(
        gelu(x).data,
        xs.map((v) => 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v ** 3)))),
        ELEMENTWISE_TOL,
      );
    });
  });
});

describe("RoPE", () => {
  /** Direct formula: pairs (i, i + D/2) rotated by pos · θ^(−2i/D). */
  function naiveRope(
    x: Float32Array,
    outer: number,
    T: number,
    D: number,
    pos: (o: number, t: number) => number,
  ) {
    const out: number[] = new Array(x.length);
    for (let o = 0; o < outer; o++)
      for (let t = 0; t < T; t++)
        for (let i = 0; i < D / 2; i++) {
          const a = pos(o, t) / 10000 ** ((2 * i) / D);
          const base = (o * T + t) * D;
          const x1 = x[base + i]!;
          const x2 = x[base + i + D / 2]!;
          out[base + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
          out[base + i + D / 2] = x2 * Math.cos(a) + x1 * Math.sin(a);
        }
    return out;
  }

  it("matches the direct formula, with shared positions and per-sequence offsets", () => {
    withFresh(() => {
      const [B, H, T, D] = [2, 3, 4, 8];
      const x = rnd([B, H, T, D]);
      expectNear(
        rope(x, [0, 1, 2, 3]).data,
        naiveRope(x.data, B * H, T, D, (_o, t) => t),
        ROW_TOL,
      );
      // Decode-style offsets: sequence 0 at positions 10.., sequence 1 at 20.. (one row per batch).
      const pos = [10, 11, 12, 13, 20, 21, 22, 23];
      expectNear(
        rope(x, pos).data,
        naiveRope(x.data, B * H, T, D, (o, t) => (Math.floor(o / H) === 0 ? 10 : 20) + t),
        ROW_TOL,
      );
      expect(() => rope(rnd([2, 5]), [0, 1])).toThrow(/must be even/);
      expect(() => rope(x, [0, 1, 2])).toThrow(ShapeError);
    });
  });

  it("preserves norms and the dot product depends only on the position difference", () => {
    withFresh(() => {
      const q = rnd([1, 8]);
      const k = rnd([1, 8]);
      const dot = (p: number, r: number) => {
        const a = rope(q, [p]).data;
        const b = rope(k, [r]).data;
        return a.reduce((s, v, i) => s + v * b[i]!, 0);
      };
      expect(dot(5, 2)).toBeCloseTo(dot(13, 10), 5);
      const n0 = q.data.reduce((s, v) => s + v * v, 0);
      const n1 = rope(q, [77]).data.reduce((s, v) => s + v * v, 0);
      expect(n1).toBeCloseTo(n0, 5);
    });
  });
});

describe("gather, scatter and losses", () => {
  it("embedding gathers rows and rejects out-of-range ids without leaking", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const table = tensor([0, 1, 10, 11, 20, 21], [3, 2]);
      const ids = tensor([2, 0, 2, 1], [2, 2], { dtype: "i32" });
      const e = embedding(table, ids);
      expect(e.shape).toEqual([2, 2, 2]);
      expect(e.toArray()).toEqual([20, 21, 0, 1, 20, 21, 10, 11]);
      const start = L.live();
      expect(() => embedding(table, tensor([0, 3], [2], { dtype: "i32" }))).toThrow(
        /id 3 at position 1 is outside \[0, 3\)/,
      );
      expect(() => embedding(table, tensor([-1], [1], { dtype: "i32" }))).toThrow(ValueError);
      expect(L.live()).toBe(start + 8 + 4); // only the two id tensors remain
      expect(() => embedding(table, tensor([0]))).toThrow(DTypeError);
    });
  });

  it("gatherRows and scatterAddRows (repeated ids accumulate)", () => {
    withFresh(() => {
      const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 2, 2]);
      const ids = tensor([2, 2, 0], [3], { dtype: "i32" });
      const g = gatherRows(x, ids);
      expect(g.shape).toEqual([3, 2, 2]);
      expect(g.toArray()).toEqual([9, 10, 11, 12, 9, 10, 11, 12, 1, 2, 3, 4]);
      const base = zeros([3, 2, 2]);
      const s = scatterAddRows(base, ids, g);
      expect(s.toArray()).toEqual([1, 2, 3, 4, 0, 0, 0, 0, 18, 20, 22, 24]);
      expect(() => scatterAddRows(base, tensor([3], [1], { dtype: "i32" }), zeros([1, 2, 2]))).toThrow(
        /id 3 at 0 is outside \[0, 3\)/,
      );
      expect(() => scatterAddRows(base, ids, zeros([2, 2, 2]))).toThrow(ShapeError);
    });
  });

  it("cross-entropy matches −log softmax[target], averaged over counted rows, with ignoreIndex", () => {
    withFresh(() => {
      const logits = rnd([4, 5], 2);
      const targets = tensor([1, -1, 4, 0], [4], { dtype: "i32" });
      let total = 0;
      for (const r of [0, 2, 3]) {
        const row = Array.from(logits.data.subarray(r * 5, r * 5 + 5));
        const lse = Math.log(row.reduce((p, v) => p + Math.exp(v), 0));
        total += lse - row[targets.int32[r]!]!;
      }
      expectNear(crossEntropy(logits, targets).data, [total / 3], ROW_TOL);
      const t2 = tensor([1, 7, 4, 0], [4], { dtype: "i32" });
      const ce7 = crossEntropy(logits, t2, { ignoreIndex: 7 }).item();
      expect(ce7).toBeCloseTo(total / 3, 5);
      expect(crossEntropy(logits, tensor([-1, -1, -1, -1], [4], { dtype: "i32" })).item()).toBe(0);
      expect(() => crossEntropy(logits, tensor([5, 0, 0, 0], [4], { dtype: "i32" }))).toThrow(
        /target 5 at row 0 is outside \[0, 5\)/,
      );
      expect(() => crossEntropy(logits, tensor([0, 0], [2], { dtype: "i32" }))).toThrow(ShapeError);
      // Huge logits stay finite.
      const huge = tensor([1e30, -1e30, 0, 0], [2, 2]);
      expect(crossEntropy(huge, tensor([1, 0], [2], { dtype: "i32" })).item()).toBeCloseTo(
        (2e30 + Math.log(2)) / 2,
        -25,
      );
    });
  });
});

describe("selection and layout", () => {
  it("topk is descending with ties broken by the lower index; argmax picks the first maximum", () => {
    withFresh(() => {
      const x = tensor([1, 3, 3, 2, 3, 0, -1, 5, 5, 5], [2, 5]);
      const { values, indices } = topk(x, 3);
      expect(values.shape).toEqual([2, 3]);
      expect(values.toArray()).toEqual([3, 3, 3, 5, 5, 5]);
      expect(indices.toArray()).toEqual([1, 2, 4, 2, 3, 4]);
      expect(topk(x, 1).indices.toArray()).toEqual([1, 2]);
      expect(argmax(x).toArray()).toEqual([1, 2]);
      expect(argmax(x).dtype).toBe("i32");
      expect(() => topk(x, 6)).toThrow(/k must be an integer in \[1, 5\], got 6/);
      expect(() => topk(x, 0)).toThrow(ValueError);
    });
  });

  it("topk matches a sort-based oracle (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        (vals, kk) => {
          withFresh(() => {
            const k = 1 + (kk % vals.length);
            const r = topk(tensor(vals, [1, vals.length]), k);
            const order = vals.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
            expect(r.indices.toArray()).toEqual(order.slice(0, k).map((p) => p[1]));
            expect(r.values.toArray()).toEqual(order.slice(0, k).map((p) => p[0]));
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("concat and slice are inverse along any axis", () => {
    withFresh(() => {
      const a = rnd([2, 3, 4]);
      const b = rnd([2, 1, 4]);
      const c = concat([a, b], 1);
      expect(c.shape).toEqual([2, 4, 4]);
      expect(slice(c, 1, 0, 3).toArray()).toEqual(a.toArray());
      expect(slice(c, 1, 3, 4).toArray()).toEqual(b.toArray());
      const d = concat([a, a], -1);
      expect(d.shape).toEqual([2, 3, 8]);
      expect(slice(d, -1, 4, 8).toArray()).toEqual(a.toArray());
      expect(() => concat([a, b], 0)).toThrow(/differ outside axis 0/);
      expect(() => concat([])).toThrow(ValueError);
      expect(() => slice(a, 2, 3, 5)).toThrow(/range \[3, 5\) is outside \[0, 4\]/);
    });
  });

  it("maskedFill fills where the broadcast mask is set, and leaks nothing", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const mask = tensor([0, 1, 1], [3], { dtype: "u8" });
      const start = L.live();
      const y = maskedFill(x, mask, -1e9);
      expect(y.toArray()).toEqual([1, -1e9, -1e9, 4, -1e9, -1e9]);
      y.dispose();
      expect(L.live()).toBe(start);
      expect(() => maskedFill(x, tensor([1, 0, 0, 1], [2, 2], { dtype: "u8" }), 0)).toThrow(ShapeError);
      expect(() => maskedFill(tensor([1]), tensor([1], [1], { dtype: "u8" }), 0).dispose()).not.toThrow();
      expect(() => maskedFill(zeros([1, 3]), tensor([1, 0, 0, 1, 0, 0], [2, 3], { dtype: "u8" }), 0)).toThrow(
        /without growing it/,
      );
      expect(() => maskedFill(x, tensor([1, 0, 0]), 0)).toThrow(DTypeError);
      expect(L.live()).toBe(start + 16 + 4 + 1 + 6 + 12);
    });
  });
});

describe("matmul op", () => {
  function naive(
    a: Tensor,
    b: Tensor,
    tA: boolean,
    tB: boolean,
  ): { data: number[]; bound: number[]; shape: number[] } {
    const [ra, ca] = [a.dim(-2), a.dim(-1)];
    const [rb, cb] = [b.dim(-2), b.dim(-1)];
    const m = tA ? ca : ra;
    const k = tA ? ra : ca;
    const n = tB ? rb : cb;
    const bA = a.size / (ra * ca);
    const bB = b.size / (rb * cb);
    const batch = Math.max(bA, bB);
    const data: number[] = [];
    const bound: number[] = [];
    for (let z = 0; z < batch; z++) {
      const ao = (bA === 1 ? 0 : z) * ra * ca;
      const bo = (bB === 1 ? 0 : z) * rb * cb;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          let s2 = 0;
          for (let q = 0; q < k; q++) {
            const av = a.data[ao + (tA ? q * ca + i : i * ca + q)]!;
            const bv = b.data[bo + (tB ? j * cb + q : q * cb + j)]!;
            s += av * bv;
            s2 += Math.abs(av * bv);
          }
          data.push(s);
          bound.push(s2);
        }
    }
    const batchShape = (a.rank >= b.rank ? a : b).shape.slice(0, -2);
    return { data, bound, shape: [...batchShape, m, n] };
  }

  it("batched, broadcast batch, every transpose combination, odd sizes", () => {
    withFresh(() => {
      const cases: [number[], number[]][] = [
        [
          [5, 7],
          [7, 3],
        ],
        [
          [2, 3, 5, 7],
          [7, 9],
        ], // batch folded into rows
        [
          [6, 1],
          [2, 1, 11],
        ], // a broadcast over b's batch
        [
          [3, 1, 13],
          [3, 13, 2],
        ], // m = 1 per batch (GEMV)
        [
          [4, 17, 19],
          [4, 19, 5],
        ],
      ];
      for (const [as, bs] of cases)
        for (const tA of [false, true])
          for (const tB of [false, true]) {
            const sa = tA ? [...as.slice(0, -2), as.at(-1)!, as.at(-2)!] : as;
            const sb = tB ? [...bs.slice(0, -2), bs.at(-1)!, bs.at(-2)!] : bs;
            const a = rnd(sa);
            const b = rnd(sb);
            const got = matmul(a, b, { transA: tA, transB: tB });
            const want = naive(a, b, tA, tB);
            expect(got.shape).toEqual(want.shape);
            for (let i = 0; i < want.data.length; i++) {
              expect(Math.abs(got.data[i]! - want.data[i]!)).toBeLessThanOrEqual(
                MATMUL_TOL * (want.bound[i]! + 1e-30),
              );
            }
          }
      expect(() => matmul(rnd([2, 3]), rnd([4, 2]))).toThrow(/inner dimensions differ/);
      expect(() => matmul(rnd([2, 2, 3]), rnd([3, 3, 2]))).toThrow(/batch axes/);
      expect(() => matmul(rnd([3]), rnd([3, 2]))).toThrow(/rank ≥ 2/);
      expect(matmul(rnd([3, 4]), rnd([4, 5]), { category: "act" }).storage.category).toBe("act");
    });
  });
});
