/**
 * sum, mean and max over every axis (and all axes) against loops written here. Gradients are checked
 * in autograd.test.ts.
 */
import { describe, expect, it } from "vitest";
import { ELEMENTWISE_TOL, expectNear, normalSampler, withFresh } from "../../test/ops-support.js";
import { max, mean, sum } from "./reduce.js";

const rnd = normalSampler();

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
