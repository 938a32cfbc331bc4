/**
 * The cache-blocked GEMM against the naive triple loop: every transpose combination, odd sizes that
 * leave partial 4×4 tiles and partial KC/MC panels, the small-m (GEMV) path, batches with strides,
 * broadcast operands (batch stride 0), offsets and accumulation.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MatmulArgs } from "../backend.js";
import { getBackend, jsBackend, listBackends, setBackend, withBackend } from "../backend.js";
import { ValueError } from "../errors.js";
import { matmulArgs, matmulBlocked, matmulNaive } from "../kernels/matmul.js";
import { Rng } from "../rng.js";

/**
 * Both kernels accumulate in f64 and round to f32 on store; the blocked one stores once per KC=256
 * slice of k, so its error is a few f32 roundings of partial sums: bounded relative to Σ|a||b|.
 */
const MATMUL_RTOL = 4e-7;

function fill(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

function check(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  opts: {
    batch?: number;
    broadcastA?: boolean;
    broadcastB?: boolean;
    offset?: number;
    accumulate?: boolean;
  } = {},
): void {
  const rng = new Rng(m * 1000003 + n * 1009 + k * 17 + (transA ? 1 : 0) + (transB ? 2 : 0));
  const batch = opts.batch ?? 1;
  const off = opts.offset ?? 0;
  const aStride = opts.broadcastA ? 0 : m * k;
  const bStride = opts.broadcastB ? 0 : k * n;
  const a = fill(off + Math.max(1, opts.broadcastA ? 1 : batch) * m * k, rng);
  const b = fill(off + Math.max(1, opts.broadcastB ? 1 : batch) * k * n, rng);
  const c0 = fill(off + batch * m * n, rng);
  const args = (c: Float32Array): MatmulArgs => ({
    m,
    n,
    k,
    batch,
    a,
    aOffset: off,
    aBatchStride: aStride,
    transA,
    b,
    bOffset: off,
    bBatchStride: bStride,
    transB,
    c,
    cOffset: off,
    cBatchStride: m * n,
    accumulate: opts.accumulate ?? false,
  });
  const ref = c0.slice();
  const got = c0.slice();
  matmulNaive(args(ref));
  matmulBlocked(args(got));
  // |a|·|b| bound per output element.
  const absA = a.map(Math.abs);
  const absB = b.map(Math.abs);
  const bound = new Float32Array(c0.length);
  matmulNaive({ ...args(bound), a: absA, b: absB, accumulate: false });
  let worst = 0;
  for (let i = 0; i < off; i++) expect(got[i]).toBe(c0[i]); // nothing before the offset is touched
  for (let i = off; i < got.length; i++) {
    const scale = bound[i]! + (opts.accumulate ? Math.abs(c0[i]!) : 0) + 1e-30;
    worst = Math.max(worst, Math.abs(got[i]! - ref[i]!) / scale);
  }
  expect(worst, `m=${m} n=${n} k=${k} tA=${transA} tB=${transB} ${JSON.stringify(opts)}`).toBeLessThanOrEqual(
    MATMUL_RTOL,
  );
}

const combos: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

describe("matmulBlocked vs matmulNaive", () => {
  it("agrees for every transpose combination over odd sizes, GEMV and panel edges", () => {
    const sizes: [number, number, number][] = [
      [1, 1, 1],
      [1, 37, 300], // m=1: the GEMV path
      [2, 5, 9],
      [3, 7, 5], // k < 8: small path
      [5, 3, 8],
      [17, 13, 11],
      [65, 9, 257], // MC=64 and KC=256 boundaries
      [4, 1030, 9], // NC=1024 boundary
      [33, 66, 300],
    ];
    for (const [m, n, k] of sizes) for (const [tA, tB] of combos) check(m, n, k, tA, tB);
  });

  it("agrees for batches, broadcast operands, offsets and accumulation", () => {
    for (const [tA, tB] of combos) {
      check(7, 6, 10, tA, tB, { batch: 3 });
      check(9, 5, 12, tA, tB, { batch: 4, broadcastB: true, offset: 3 });
      check(2, 5, 12, tA, tB, { batch: 2, broadcastA: true });
      check(6, 6, 20, tA, tB, { batch: 2, accumulate: true, offset: 1 });
      check(1, 8, 16, tA, tB, { batch: 3, accumulate: true });
    }
  });

  it("agrees on random shapes (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 0, max: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        (m, n, k, tA, tB, batch) => check(m, n, k, tA, tB, { batch }),
      ),
      { numRuns: 200 },
    );
  });

  it("propagates NaN and Inf like the naive loop (no skipped zeros)", () => {
    for (const [m, k] of [
      [1, 4],
      [8, 16],
    ] as const) {
      const a = new Float32Array(m * k); // all zeros
      const b = new Float32Array(k * 3).fill(Number.POSITIVE_INFINITY);
      const c = new Float32Array(m * 3);
      matmulBlocked(matmulArgs(m, 3, k, a, b, c));
      expect(c.every(Number.isNaN)).toBe(true); // 0 · ∞ = NaN
    }
  });
});

describe("backend selection", () => {
  it("JS is the default, selectable by name; unknown names list the available backends", () => {
    expect(getBackend().name).toBe("JS");
    expect(withBackend("js", () => getBackend())).toBe(jsBackend);
    expect(listBackends().map((b) => b.name)).toContain("JS");
    expect(() => setBackend("cuda")).toThrow(ValueError);
    expect(() => setBackend("cuda")).toThrow(/unknown backend 'cuda'; available: JS/);
    expect(getBackend()).toBe(jsBackend);
  });
});
