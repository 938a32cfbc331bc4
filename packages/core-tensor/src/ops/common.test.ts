/**
 * The shared guards every op runs first: a wrong dtype throws a `DTypeError` before the op allocates
 * anything, so the ledger's live bytes do not move.
 */
import { describe, expect, it } from "vitest";
import { DTypeError } from "../errors.js";
import { MemoryLedger, withLedger } from "../ledger.js";
import { zeros } from "../tensor.js";
import { add } from "./binary.js";
import { concat, slice } from "./layout.js";
import { maskedFill } from "./masked-fill.js";
import { layerNorm, rmsNorm } from "./norm.js";
import { max } from "./reduce.js";
import { rope } from "./rope.js";
import { argmax, topk } from "./select.js";
import { softmax } from "./softmax.js";
import { silu } from "./unary.js";

describe("op guards", () => {
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
