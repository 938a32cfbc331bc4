/**
 * concat and slice as inverses along any axis, with their range and shape errors. Views (reshape,
 * narrow) are covered in tensor.test.ts; gradients in autograd.test.ts.
 */
import { describe, expect, it } from "vitest";
import { normalSampler, withFresh } from "../../test/ops-support.js";
import { ValueError } from "../errors.js";
import { concat, slice } from "./layout.js";

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
});
