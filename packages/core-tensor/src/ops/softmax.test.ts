/**
 * Softmax, log-softmax and cross-entropy against the textbook formulas in f64, a row-sum property and
 * huge inputs. Gradients are checked in autograd.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectNear, normalSampler, ROW_TOL, withFresh } from "../../test/ops-support.js";
import { ShapeError } from "../errors.js";
import { tensor } from "../tensor.js";
import { crossEntropy, logSoftmax, softmax } from "./softmax.js";

const rnd = normalSampler();

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
