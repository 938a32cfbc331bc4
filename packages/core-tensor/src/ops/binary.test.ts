/**
 * Broadcasting binary ops against an index-arithmetic oracle written here (f64, then rounded to f32).
 * Gradients are checked against finite differences in autograd.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ELEMENTWISE_TOL, expectNear, normalSampler, withFresh } from "../../test/ops-support.js";
import { backward } from "../autograd.js";
import { leadingRun } from "../kernels/elementwise.js";
import { type Tensor, tensor, zeros } from "../tensor.js";
import { add, div, mul, sub } from "./binary.js";

const rnd = normalSampler();

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

  it("an operand constant along trailing axes ([N, 1] against [N, d]) is one run per element, exactly as the oracle", () => {
    expect(leadingRun([5, 1], [5, 7])).toBe(7);
    expect(leadingRun([3, 1, 1], [3, 2, 4])).toBe(8);
    expect(leadingRun([1, 3, 1], [1, 3, 4])).toBe(4);
    expect(leadingRun([3, 1], [2, 3, 4])).toBe(0); // broadcast on a leading axis too
    expect(leadingRun([1, 4], [3, 4])).toBe(0); // trailing rows, not runs
    expect(leadingRun([3, 4], [3, 4])).toBe(0); // equal shapes
    for (const [as, bs] of [
      [
        [5, 7],
        [5, 1],
      ],
      [
        [5, 1],
        [5, 7],
      ],
      [
        [3, 2, 4],
        [3, 1, 1],
      ],
      [
        [1, 3, 1],
        [1, 3, 4],
      ],
    ] as const) {
      withFresh(() => {
        for (const [name, op, f] of ops) {
          const a = rnd([...as]);
          const b = rnd([...bs]);
          const want = naiveBroadcast(f, a.data, [...as], b.data, [...bs]);
          expect(op(a, b).data, `${name} [${as}] [${bs}]`).toEqual(Float32Array.from(want.data));
        }
      });
    }
  });

  it("the gradient of a per-row operand sums each row's run (f32 adds in order)", () => {
    withFresh(() => {
      const a = rnd([4, 6]);
      const b = tensor([0.5, -1, 2, 3], [4, 1], { requiresGrad: true });
      const g = rnd([4, 6]);
      backward(add(a, b), { grad: g });
      const want = new Float32Array(4);
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 6; j++) want[i] = Math.fround(want[i]! + g.data[i * 6 + j]!);
      expect(b.grad?.shape).toEqual([4, 1]);
      expect(b.grad?.data).toEqual(want);
    });
  });

  it("rejects shapes that do not broadcast, naming both", () => {
    withFresh(() => {
      expect(() => add(zeros([2, 3]), zeros([2]))).toThrow(/shapes \[2,3\] and \[2\] do not broadcast/);
    });
  });
});
