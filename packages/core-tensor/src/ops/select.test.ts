/**
 * topk and argmax: tie-breaking by the lower index on hand-checked values, and topk against a
 * sort-based oracle (property).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { withFresh } from "../../test/ops-support.js";
import { ValueError } from "../errors.js";
import { tensor } from "../tensor.js";
import { argmax, topk } from "./select.js";

describe("selection", () => {
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
});
