/**
 * The matmul op against an f64 triple loop: batched, broadcast batch, every transpose combination and
 * odd sizes, within MATMUL_TOL relative to Σ|a||b|. Kernel-level tests are in kernels/matmul.test.ts.
 */
import { describe, expect, it } from "vitest";
import { MATMUL_TOL, normalSampler, withFresh } from "../../test/ops-support.js";
import type { Tensor } from "../tensor.js";
import { matmul } from "./matmul.js";

const rnd = normalSampler();

describe("matmul op", () => {
  function naive(
    a: Tensor,
    b: Tensor,
    tA: boolean,
    tB: boolean,
  ): { data: number[]; bound: number[]; shape: number[] } {
    const [ra, ca] = [a.dim(-2), a.dim(-1)];
    const [rb, cb] = [b.dim(-2), b.dim(-1)];
    const m = tA ? ca : ra;
    const k = tA ? ra : ca;
    const n = tB ? rb : cb;
    const bA = a.size / (ra * ca);
    const bB = b.size / (rb * cb);
    const batch = Math.max(bA, bB);
    const data: number[] = [];
    const bound: number[] = [];
    for (let z = 0; z < batch; z++) {
      const ao = (bA === 1 ? 0 : z) * ra * ca;
      const bo = (bB === 1 ? 0 : z) * rb * cb;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          let s2 = 0;
          for (let q = 0; q < k; q++) {
            const av = a.data[ao + (tA ? q * ca + i : i * ca + q)]!;
            const bv = b.data[bo + (tB ? j * cb + q : q * cb + j)]!;
            s += av * bv;
            s2 += Math.abs(av * bv);
          }
          data.push(s);
          bound.push(s2);
        }
    }
    const batchShape = (a.rank >= b.rank ? a : b).shape.slice(0, -2);
    return { data, bound, shape: [...batchShape, m, n] };
  }

  it("batched, broadcast batch, every transpose combination, odd sizes", () => {
    withFresh(() => {
      const cases: [number[], number[]][] = [
        [
          [5, 7],
          [7, 3],
        ],
        [
          [2, 3, 5, 7],
          [7, 9],
        ], // batch folded into rows
        [
          [6, 1],
          [2, 1, 11],
        ], // a broadcast over b's batch
        [
          [3, 1, 13],
          [3, 13, 2],
        ], // m = 1 per batch (GEMV)
        [
          [4, 17, 19],
          [4, 19, 5],
        ],
      ];
      for (const [as, bs] of cases)
        for (const tA of [false, true])
          for (const tB of [false, true]) {
            const sa = tA ? [...as.slice(0, -2), as.at(-1)!, as.at(-2)!] : as;
            const sb = tB ? [...bs.slice(0, -2), bs.at(-1)!, bs.at(-2)!] : bs;
            const a = rnd(sa);
            const b = rnd(sb);
            const got = matmul(a, b, { transA: tA, transB: tB });
            const want = naive(a, b, tA, tB);
            expect(got.shape).toEqual(want.shape);
            for (let i = 0; i < want.data.length; i++) {
              expect(Math.abs(got.data[i]! - want.data[i]!)).toBeLessThanOrEqual(
                MATMUL_TOL * (want.bound[i]! + 1e-30),
              );
            }
          }
      expect(() => matmul(rnd([2, 3]), rnd([4, 2]))).toThrow(/inner dimensions differ/);
      expect(() => matmul(rnd([2, 2, 3]), rnd([3, 3, 2]))).toThrow(/batch axes/);
      expect(() => matmul(rnd([3]), rnd([3, 2]))).toThrow(/rank ≥ 2/);
      expect(matmul(rnd([3, 4]), rnd([4, 5]), { category: "act" }).storage.category).toBe("act");
    });
  });
});
