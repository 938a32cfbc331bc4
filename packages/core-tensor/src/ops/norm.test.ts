/**
 * RMSNorm and LayerNorm against their formulas in f64, and their weight-shape checks. Gradients are
 * checked in autograd.test.ts.
 */
import { describe, expect, it } from "vitest";
import { expectNear, normalSampler, ROW_TOL, withFresh } from "../../test/ops-support.js";
import { ShapeError } from "../errors.js";
import { layerNorm, rmsNorm } from "./norm.js";

const rnd = normalSampler();

describe("norms", () => {
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
});
