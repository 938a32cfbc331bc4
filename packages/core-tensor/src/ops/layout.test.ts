/**
 * concat and slice as inverses along any axis, with their range and shape errors; transpose's view
 * when only unit axes move. Views (reshape, narrow) are covered in tensor.test.ts; gradients in
 * autograd.test.ts.
 */
import { describe, expect, it } from "vitest";
import { normalSampler, withFresh } from "../../test/ops-support.js";
import { ValueError } from "../errors.js";
import { concat, slice, transpose } from "./layout.js";

const rnd = normalSampler();

describe("layout", () => {
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

  it("transpose moving only unit axes is a view with the copy's elements; any other permutation copies", () => {
    withFresh(() => {
      const x = rnd([2, 1, 3, 4]); // (B, T=1, H, D), as a decode step's heads
      const v = transpose(x, [0, 2, 1, 3]);
      expect(v.shape).toEqual([2, 3, 1, 4]);
      expect(v.storage).toBe(x.storage);
      expect(v.toArray()).toEqual(x.toArray());
      const back = transpose(v, [0, 2, 1, 3]);
      expect(back.storage).toBe(x.storage);
      const y = rnd([2, 2, 3, 4]);
      const c = transpose(y, [0, 2, 1, 3]);
      expect(c.storage).not.toBe(y.storage);
      const d = y.data;
      // c[b, h, t, :] = y[b, t, h, :]
      expect(Array.from(c.data.subarray((1 * 6 + 2 * 2 + 1) * 4, (1 * 6 + 2 * 2 + 1) * 4 + 4))).toEqual(
        Array.from(d.subarray((1 * 6 + 1 * 3 + 2) * 4, (1 * 6 + 1 * 3 + 2) * 4 + 4)),
      );
      // A swap of two non-unit axes around a unit one still copies.
      const z = rnd([3, 1, 4]);
      expect(transpose(z, [2, 1, 0]).storage).not.toBe(z.storage);
    });
  });
});
