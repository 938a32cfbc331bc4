/**
 * RoPE against the direct rotation formula (shared positions and per-sequence offsets), and its
 * invariants: norms are preserved and q·k depends only on the position difference.
 */
import { describe, expect, it } from "vitest";
import { expectNear, normalSampler, ROW_TOL, withFresh } from "../../test/ops-support.js";
import { ShapeError } from "../errors.js";
import { rope as ropeKernel } from "../kernels/rows.js";
import { rope } from "./rope.js";

const rnd = normalSampler();

describe("RoPE", () => {
  /** Direct formula: pairs (i, i + D/2) rotated by pos · θ^(−2i/D). */
  function naiveRope(
    x: Float32Array,
    outer: number,
    T: number,
    D: number,
    pos: (o: number, t: number) => number,
  ) {
    const out: number[] = new Array(x.length);
    for (let o = 0; o < outer; o++)
      for (let t = 0; t < T; t++)
        for (let i = 0; i < D / 2; i++) {
          const a = pos(o, t) / 10000 ** ((2 * i) / D);
          const base = (o * T + t) * D;
          const x1 = x[base + i]!;
          const x2 = x[base + i + D / 2]!;
          out[base + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
          out[base + i + D / 2] = x2 * Math.cos(a) + x1 * Math.sin(a);
        }
    return out;
  }

  it("consecutive calls at different positions of one length each rotate by their own (the kernel reuses its last table only for equal positions)", () => {
    withFresh(() => {
      const [H, D] = [3, 8];
      const x = rnd([1, H, 1, D]); // a decode step: one position
      for (const p of [5, 6, 6, 7, 5]) {
        expectNear(
          rope(x, [p]).data,
          naiveRope(x.data, H, 1, D, () => p),
          ROW_TOL,
          `rope at ${p}`,
        );
      }
      // The inverse rotation right after the forward one at the same position (a table per sign).
      const y = new Float32Array(x.size);
      const z = new Float32Array(x.size);
      ropeKernel(x.data, y, H, 1, D, [9], 10000, false);
      ropeKernel(y, z, H, 1, D, [9], 10000, true);
      expectNear(z, x.data, ROW_TOL, "inverse after forward");
    });
  });

  it("matches the direct formula, with shared positions and per-sequence offsets", () => {
    withFresh(() => {
      const [B, H, T, D] = [2, 3, 4, 8];
      const x = rnd([B, H, T, D]);
      expectNear(
        rope(x, [0, 1, 2, 3]).data,
        naiveRope(x.data, B * H, T, D, (_o, t) => t),
        ROW_TOL,
      );
      // Decode-style offsets: sequence 0 at positions 10.., sequence 1 at 20.. (one row per batch).
      const pos = [10, 11, 12, 13, 20, 21, 22, 23];
      expectNear(
        rope(x, pos).data,
        naiveRope(x.data, B * H, T, D, (o, t) => (Math.floor(o / H) === 0 ? 10 : 20) + t),
        ROW_TOL,
      );
      expect(() => rope(rnd([2, 5]), [0, 1])).toThrow(/must be even/);
      expect(() => rope(x, [0, 1, 2])).toThrow(ShapeError);
    });
  });

  it("preserves norms and the dot product depends only on the position difference", () => {
    withFresh(() => {
      const q = rnd([1, 8]);
      const k = rnd([1, 8]);
      const dot = (p: number, r: number) => {
        const a = rope(q, [p]).data;
        const b = rope(k, [r]).data;
        return a.reduce((s, v, i) => s + v * b[i]!, 0);
      };
      expect(dot(5, 2)).toBeCloseTo(dot(13, 10), 5);
      const n0 = q.data.reduce((s, v) => s + v * v, 0);
      const n1 = rope(q, [77]).data.reduce((s, v) => s + v * v, 0);
      expect(n1).toBeCloseTo(n0, 5);
    });
  });
});
