/**
 * embedding, gatherRows and scatterAddRows on hand-checked values, with out-of-range ids rejected
 * without leaking ledger bytes.
 */
import { describe, expect, it } from "vitest";
import { withFresh } from "../../test/ops-support.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { MemoryLedger, withLedger } from "../ledger.js";
import { tensor, zeros } from "../tensor.js";
import { embedding, gatherRows, scatterAddRows } from "./gather.js";

describe("gather and scatter", () => {
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
});
