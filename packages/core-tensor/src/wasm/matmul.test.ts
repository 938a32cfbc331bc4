import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { OutOfMemoryError } from "../errors.js";
import type { MatmulArgs } from "../kernels/matmul.js";
import { matmulArgs, matmulBlocked, matmulNaive } from "../kernels/matmul.js";
import { getLedger } from "../ledger.js";
import { Rng } from "../rng.js";
import {
  gemmChunkColumns,
  MAX_SPLIT_BLOCKS,
  packedChunkRows,
  splitArgs,
  WASM_SPLIT_MIN_WORK,
  wasmMatmul,
} from "./matmul.js";
import { disposeWasm, wasmRuntime } from "./runtime.js";

/** WASM (f32 SIMD, blocked summation order) vs the f64-accumulating naive oracle, for K up to 1024. */
const WASM_MATMUL_TOL = { atol: 1e-4, rtol: 1e-4 } as const;

afterAll(() => disposeWasm());

function fill(n: number, rng: Rng): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform() * 2 - 1;
  return x;
}

function maxViolation(got: Float32Array, want: Float32Array, tol: { atol: number; rtol: number }): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) - (tol.atol + tol.rtol * Math.abs(want[i]!));
    worst = Math.max(worst, err);
  }
  return worst;
}

interface Case {
  m: number;
  n: number;
  k: number;
  batch: number;
  transA: boolean;
  transB: boolean;
  broadcastA: boolean;
  broadcastB: boolean;
  accumulate: boolean;
  threads: number;
  seed: number;
  /** NaNs between consecutive B matrices (a strided batch, as K/V heads in a cache's reservation). */
  bGap?: number;
}

/** Runs one case through the oracle and the WASM kernel; returns the worst tolerance violation. */
function check(c: Case): number {
  const rng = new Rng(c.seed);
  const offA = 3; // non-zero offsets exercise the span copies
  const aBS = c.broadcastA ? 0 : c.m * c.k;
  const gap = c.bGap ?? 0;
  const bBS = c.broadcastB ? 0 : c.k * c.n + gap;
  const a = fill(offA + (c.broadcastA ? 1 : c.batch) * c.m * c.k, rng);
  const b = fill((c.broadcastB ? 1 : c.batch) * (c.k * c.n + gap), rng);
  for (let t = 0; t < (c.broadcastB ? 1 : c.batch); t++)
    b.fill(Number.NaN, t * bBS + c.k * c.n, (t + 1) * bBS);
  const c0 = fill(2 + c.batch * c.m * c.n, rng);
  const args = (out: Float32Array): MatmulArgs => ({
    m: c.m,
    n: c.n,
    k: c.k,
    batch: c.batch,
    a,
    aOffset: offA,
    aBatchStride: aBS,
    transA: c.transA,
    b,
    bOffset: 0,
    bBatchStride: bBS,
    transB: c.transB,
    c: out,
    cOffset: 2,
    cBatchStride: c.m * c.n,
    accumulate: c.accumulate,
  });
  const want = c0.slice();
  const got = c0.slice();
  matmulNaive(args(want));
  wasmMatmul(wasmRuntime(), args(got), c.threads);
  expect(got[0]).toBe(c0[0]); // nothing written before cOffset
  return maxViolation(got, want, WASM_MATMUL_TOL);
}

const base: Case = {
  m: 1,
  n: 1,
  k: 1,
  batch: 1,
  transA: false,
  transB: false,
  broadcastA: false,
  broadcastB: false,
  accumulate: false,
  threads: 1,
  seed: 1,
};

describe("wasm matmul vs the naive oracle (WASM_MATMUL_TOL)", () => {
  it("random shapes, transposes, batches (strided B too), broadcast batch, accumulate, 1 and 2 threads", () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 37 }),
          n: fc.integer({ min: 1, max: 41 }),
          k: fc.integer({ min: 1, max: 70 }),
          batch: fc.integer({ min: 1, max: 3 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          broadcastA: fc.boolean(),
          broadcastB: fc.boolean(),
          accumulate: fc.boolean(),
          threads: fc.constantFrom(1, 2),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
          bGap: fc.integer({ min: 0, max: 70 }),
        }),
        (c) => check(c) <= 0,
      ),
      { numRuns: 150 },
    );
  });

  // Sizes that cross the packing blocks (KC 256, MC 128, 8-wide panels) and the 2-thread split paths
  // (the split cases are at least WASM_SPLIT_MIN_WORK multiply-adds in all).
  const big: [string, Partial<Case>][] = [
    ["odd 331×77×300, 2 threads (column split)", { m: 331, n: 77, k: 300, threads: 2 }],
    ["K = 1024, 67×95", { m: 67, n: 95, k: 1024, threads: 2, transB: true }],
    ["A and B transposed, 129×130×257", { m: 129, n: 130, k: 257, transA: true, transB: true, threads: 2 }],
    ["decode GEMV 1×8200×513 (xWᵀ), 2 threads", { m: 1, n: 8200, k: 513, transB: true, threads: 2 }],
    ["decode 2×2099×1000 (xW), 2 threads", { m: 2, n: 2099, k: 1000, threads: 2 }],
    [
      "8 heads 133×31×130 (batch split), broadcast B",
      { m: 133, n: 31, k: 130, batch: 8, threads: 2, broadcastB: true },
    ],
    [
      "batch 3 of 170×90×100, accumulate, 2 threads (batch split)",
      { m: 170, n: 90, k: 100, batch: 3, threads: 2, accumulate: true },
    ],
    [
      "decode QKᵀ: 12 heads of 1×1536×64 over a strided reservation (a cache's K), 2 threads",
      { m: 1, n: 1536, k: 64, batch: 12, transB: true, threads: 2, bGap: 640 },
    ],
    [
      "decode P·V: 12 heads of 3×64×1533 over a strided reservation (a cache's V), 2 threads",
      { m: 3, n: 64, k: 1533, batch: 12, threads: 2, bGap: 192 },
    ],
  ];
  for (const [name, over] of big) {
    it(name, () => {
      const c = { ...base, ...over };
      if (c.threads > 1) expect(c.m * c.n * c.k * c.batch).toBeGreaterThanOrEqual(WASM_SPLIT_MIN_WORK);
      expect(check(c)).toBeLessThanOrEqual(0);
    });
  }

  it("agrees with the JS blocked kernel on a 256³ product, 1 and 2 threads", () => {
    const rng = new Rng(7);
    const n = 256;
    const a = fill(n * n, rng);
    const b = fill(n * n, rng);
    const args = (c: Float32Array): MatmulArgs => matmulArgs(n, n, n, a, b, c);
    const js = new Float32Array(n * n);
    matmulBlocked(args(js));
    for (const threads of [1, 2]) {
      const w = new Float32Array(n * n);
      wasmMatmul(wasmRuntime(), args(w), threads);
      expect(maxViolation(w, js, WASM_MATMUL_TOL)).toBeLessThanOrEqual(0);
    }
  });

  it("2 threads give 1 thread's C bit for bit (column and batch splits)", () => {
    // A column's sum is the same whichever thread's share holds it.
    const rng = new Rng(9);
    for (const [m, n, k, batch] of [
      [331, 77, 300, 1], // one product: columns split in blocks (gemmBlocks)
      [300, 77, 4000, 1], // A too large to pack whole beside a block: columns split in halves
      [2, 2099, 1000, 1], // decode-shaped (gemmSmall)
      [133, 31, 130, 8], // heads: batch split
    ] as const) {
      const a = fill(batch * m * k, rng);
      const b = fill(batch * k * n, rng);
      const args = (c: Float32Array): MatmulArgs => ({
        ...matmulArgs(m, n, k, a, b, c),
        batch,
        aBatchStride: m * k,
        bBatchStride: k * n,
        cBatchStride: m * n,
      });
      const one = new Float32Array(batch * m * n);
      const two = new Float32Array(batch * m * n);
      wasmMatmul(wasmRuntime(), args(one), 1);
      wasmMatmul(wasmRuntime(), args(two), 2);
      expect(two, `${m}×${n}×${k} ×${batch}`).toEqual(one);
    }
  });

  it("k = 0 zeroes C, and empty products are no-ops", () => {
    const c = new Float32Array([5, 5, 5, 5]);
    const z = new Float32Array(0);
    const p: MatmulArgs = {
      m: 2,
      n: 2,
      k: 0,
      batch: 1,
      a: z,
      aOffset: 0,
      aBatchStride: 0,
      transA: false,
      b: z,
      bOffset: 0,
      bBatchStride: 0,
      transB: false,
      c,
      cOffset: 0,
      cBatchStride: 0,
    };
    wasmMatmul(wasmRuntime(), p, 2);
    expect([...c]).toEqual([0, 0, 0, 0]);
  });
});

describe("gemmBlocks: a GEMM's columns handed out in blocks", () => {
  it("from each end, both from the front or both from the back: every block once, one thread's C bit for bit", () => {
    const rt = wasmRuntime();
    const rng = new Rng(21);
    // m past MC (128) and not a multiple of MR (4), k past KC (256) and not a multiple of it, n not a
    // multiple of the block; both transposes (A stored k×m, B stored n×k).
    for (const [m, n, k, transA, transB, chunk] of [
      [257, 200, 600, false, false, 32],
      [131, 77, 300, true, true, 32],
      [9, 640, 33, true, false, gemmChunkColumns(640)],
      [64, 40, 256, false, true, 64], // one block: one thread does it all
    ] as const) {
      const a = fill(m * k, rng);
      const b = fill(k * n, rng);
      const rsA = transA ? 1 : k;
      const csA = transA ? m : 1;
      const rsB = transB ? 1 : n;
      const csB = transB ? k : 1;
      const at = rt.scratchBase;
      const bAt = at + a.length * 4;
      const cAt = bAt + b.length * 4;
      const counter = cAt + m * n * 4;
      const s0 = counter + 64;
      const s1 = s0 + rt.gemmScratchBytes;
      expect(rt.gemmBlocksScratchBytes(m, k, chunk)).toBeLessThanOrEqual(rt.gemmScratchBytes);
      const { f32 } = rt.ensure(s1 + rt.gemmScratchBytes);
      f32.set(a, at >> 2);
      f32.set(b, bAt >> 2);
      const c = () => new Float32Array(rt.memory.buffer, cAt, m * n);
      c().fill(0.5); // C holds what to add to
      rt.run("gemmBatched", [[0, 1, m, k, 0, n, at, 0, rsA, csA, bAt, 0, rsB, csB, cAt, 0, n, s0]]);
      const want = c().slice();
      const head = [m, k, n, at, rsA, csA, bAt, rsB, csB, cAt, n];
      for (const [c0, c1] of [
        [chunk, -chunk],
        [chunk, chunk],
        [-chunk, -chunk],
      ] as const) {
        c().fill(0.5);
        new Int32Array(rt.memory.buffer, counter, 1)[0] = 0;
        rt.run("gemmBlocks", [
          [...head, s0, counter, c0],
          [...head, s1, counter, c1],
        ]);
        expect(c(), `${m}×${n}×${k} ${c0}/${c1}`).toEqual(want);
        // Every block taken once, plus one draw past the end per thread, at the ends the threads took.
        const drawn = new Uint32Array(rt.memory.buffer, counter, 1)[0]!;
        expect((drawn & 0xffff) + (drawn >>> 16)).toBe(Math.ceil(n / chunk) + 2);
        if (c0 > 0 && c1 > 0) expect(drawn >>> 16).toBe(0);
        if (c0 < 0 && c1 < 0) expect(drawn & 0xffff).toBe(0);
      }
    }
  });

  it("blocks are multiples of 8 columns, at least 32, at most 16 of them", () => {
    for (const n of [1, 64, 256, 688, 2048, 11008]) {
      const chunk = gemmChunkColumns(n);
      expect(chunk % 8).toBe(0);
      expect(chunk).toBeGreaterThanOrEqual(32);
      expect(Math.ceil(n / chunk)).toBeLessThanOrEqual(16);
    }
  });
});

describe("packedChunkRows: the packed GEMVs' dynamic split", () => {
  it("blocks are multiples of 8 rows, ≥ 8, 2^19 multiply-adds or n/8 rows, whichever is fewer", () => {
    expect(packedChunkRows(1, 4096, 4096)).toBe(128); // 2^19 / 4096
    expect(packedChunkRows(1, 11008, 4096)).toBe(128);
    expect(packedChunkRows(4, 4096, 4096)).toBe(32); // m = 4: four times the work per row
    expect(packedChunkRows(64, 4096, 4096)).toBe(8); // never fewer than 8
    expect(packedChunkRows(1, 768, 768)).toBe(96); // n/8: eight blocks to share
    expect(packedChunkRows(1, 20, 32)).toBe(8);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 8, max: 20000 }),
        fc.integer({ min: 1, max: 20000 }),
        (m, n, k) => {
          const c = packedChunkRows(m, n, k);
          return c % 8 === 0 && c >= 8 && (c === 8 || (c * m * k <= 1 << 19 && c <= n / 8));
        },
      ),
    );
  });
});

describe("splitArgs: one thread from each end", () => {
  it("even threads take blocks from the front, odd ones from the back, within MAX_SPLIT_BLOCKS", () => {
    expect(splitArgs(640, 128, 4096, 0)).toEqual([640, 128]);
    expect(splitArgs(640, 128, 4096, 1)).toEqual([640, -128]);
    // 10^6 rows in blocks of 8 would be 125 000 blocks: blocks grow to a multiple of the unit
    const [, big] = splitArgs(640, 8, 1_000_000, 0);
    expect(big % 8).toBe(0);
    expect(Math.ceil(1_000_000 / big)).toBeLessThanOrEqual(MAX_SPLIT_BLOCKS);
    const [, f32x8] = splitArgs(640, 64, 3_000_000, 1, 64);
    expect(-f32x8 % 64).toBe(0);
    expect(f32x8).toBeLessThan(0);
    expect(Math.ceil(3_000_000 / -f32x8)).toBeLessThanOrEqual(MAX_SPLIT_BLOCKS);
  });
});

describe("wasm matmul memory accounting", () => {
  it("charges its workspace to tmp/wasm during the call and releases it after", () => {
    const ledger = getLedger();
    const before = ledger.live();
    ledger.resetPeak();
    // 32·128·128 = WASM_SPLIT_MIN_WORK multiply-adds: the smallest product split over 2 threads.
    check({ ...base, m: 32, n: 128, k: 128, threads: 2 });
    expect(32 * 128 * 128).toBe(WASM_SPLIT_MIN_WORK);
    expect(ledger.live()).toBe(before);
    // A, B, C copies plus two packing scratch areas (one per thread) are visible in the peak.
    const copies = (32 * 128 + 128 * 128 + 32 * 128) * 4;
    expect(ledger.peak("tmp")).toBeGreaterThanOrEqual(copies + 2 * wasmRuntime().gemmScratchBytes);
    expect(wasmRuntime().reservedBytes).toBeGreaterThanOrEqual(ledger.peak("tmp"));
  });

  it("a budget that the workspace exceeds throws OutOfMemoryError and leaks nothing", () => {
    const ledger = getLedger();
    const before = ledger.live();
    ledger.setBudget(before + 1024, "*");
    try {
      expect(() => check({ ...base, m: 64, n: 64, k: 64 })).toThrow(OutOfMemoryError);
    } finally {
      ledger.setBudget(undefined, "*");
    }
    expect(ledger.live()).toBe(before);
  });
});
