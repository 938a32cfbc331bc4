/**
 * maskedFill with a broadcast mask: filled values, the shape and dtype errors, and exact ledger
 * accounting (nothing leaks, the saved mask included).
 */
import { describe, expect, it } from "vitest";
import { DTypeError, ShapeError } from "../errors.js";
import { MemoryLedger, withLedger } from "../ledger.js";
import { tensor, zeros } from "../tensor.js";
import { maskedFill } from "./masked-fill.js";

describe("maskedFill", () => {
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
