/**
 * Shared by the op tests in src/ops/*.test.ts: named tolerances, an element-wise closeness check, a
 * fresh ledger per case and a seeded normal generator. Test-only: not part of the package.
 */
import { expect } from "vitest";
import { MemoryLedger, withLedger } from "../src/ledger.js";
import { Rng } from "../src/rng.js";
import { randn, scope, type Tensor } from "../src/tensor.js";

/** f32 results of f64 formulas: a few ulps of the output (relative) plus a tiny absolute floor. */
export const ELEMENTWISE_TOL = 1e-6;
/** Row ops (norms, softmax, RoPE) sum over a row in f64 then round: still a few f32 ulps. */
export const ROW_TOL = 2e-6;
/** Matmul through ops vs an f64 triple loop, relative to Σ|a||b| (see kernels/matmul.test.ts). */
export const MATMUL_TOL = 1e-6;

/** Each `got[i]` within `tol · max(1, |want[i]|)` of `want[i]`; non-finite values must match exactly. */
export function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what = ""): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      expect(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `${what} [${i}] ${g} vs ${w}`).toBe(
        true,
      );
      continue;
    }
    expect(Math.abs(g - w), `${what} [${i}] ${g} vs ${w}`).toBeLessThanOrEqual(
      tol * Math.max(1, Math.abs(w)),
    );
  }
}

/** Runs `fn` under a new ledger inside a tensor scope (everything it allocates is freed after). */
export function withFresh<T>(fn: (L: MemoryLedger) => T): T {
  const L = new MemoryLedger();
  return withLedger(L, () => scope(() => fn(L)));
}

/** A normal(0, s) sampler of f32 tensors from one seeded `Rng` per test file. */
export function normalSampler(seed = 2024): (shape: number[], s?: number) => Tensor {
  const rng = new Rng(seed);
  return (shape, s = 1) => randn(shape, rng, { std: s });
}
