/**
 * The nibble GEMV kernel (assembly/gemv-nibble.ts, and gemv-nibble-dot8.ts in the relaxed build) against
 * its dequantise-then-FP32 oracle on both WASM flavors: INT4's affine codebook and other exactly
 * representable ones (no codebook error), NF4 and an unsorted codebook (lookup), f32 and
 * double-quantised scales, odd shapes, 1 and 2 threads. Not here: the row-decoding kernels and other
 * formats (dequant.test.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { useWasmFlavor, WASM_FLAVORS, type WasmFlavor } from "../../test/wasm-flavors.js";
import type { DequantWeight } from "../backend.js";
import { Rng } from "../rng.js";
import {
  codebookRoundingBound,
  decodeDqScales,
  dequantRowNaive,
  NF4_TABLE,
  nibbleXBlock,
  nibbleXCodeLevels,
  wasmMatmulDequant,
  x16RoundingBound,
} from "./dequant.js";
import { GEMV_MAX_M, gemvThreads } from "./matmul.js";

/** Codebooks by how the kernel takes them: `exact` ones become integers with no error. */
const CODEBOOKS = {
  /** INT4: c − 8, affine with an integer offset (the codes used as they are). */
  int4: { values: Array.from({ length: 16 }, (_, c) => c - 8), exact: true },
  /** 0.5·c + 0.25: affine but b/a = 0.5, so looked up; ×16 makes every value an integer (span 120). */
  halves: { values: Array.from({ length: 16 }, (_, c) => 0.5 * c + 0.25), exact: true },
  /** NF4: looked up, its span rounded onto 0..127. */
  nf4: { values: [...NF4_TABLE], exact: false },
  /** Unsorted, code 0 not the smallest (the lookup's offset is min q, not q[0]). */
  unsorted: {
    values: [0.3, -0.9, 0.05, 1.7, -0.2, 0.6, -1.3, 0.0, 0.45, -0.55, 1.1, -0.05, 0.8, -0.7, 0.25, -1.6],
    exact: false,
  },
} as const;
type CodebookName = keyof typeof CODEBOOKS;

/**
 * Tolerance of one output y[i, j] vs Σ_q x·W (f64 over the decoded row, `row`), each term derived
 * from the kernel of `flavor`:
 * - x rounded per x-block (`x16RoundingBound` with the kernel's x-block): on simd to codes within
 *   ±1927 when the codebook is affine (≤ absmax/3854 each), else and on relaxed to 8-bit codes
 *   (≤ absmax/254 each), `nibbleXCodeLevels`;
 * - a codebook that is not exact rounded to integers: `codebookRoundingBound` (its span mapped onto
 *   0..127, ≤ (max − min)/254 each);
 * - f32: each x-block's integer sum is exact; converting it, forming scale·unit·sx and the product
 *   round 4 times, and adding nb partial sums into the 4-lane accumulator at most nb more, each
 *   ≤ 2^-24 of Σ|terms|, first order: (4 + nb)·2^-24·Σ_q |x_q·W_q|, doubled for the rounded x and
 *   codebook values and second-order terms (F32_SLACK).
 */
const F32_SLACK = 2;
function bound(
  row: Float32Array,
  x: Float32Array,
  xOff: number,
  k: number,
  group: number,
  codebook: CodebookName,
  rowScales: Float32Array,
  flavor: WasmFlavor,
): number {
  let mag = 0;
  for (let q = 0; q < k; q++) mag += Math.abs(x[xOff + q]! * row[q]!);
  const levels = nibbleXCodeLevels(CODEBOOKS[codebook].values, flavor);
  const xr = x16RoundingBound(row, x, xOff, k, nibbleXBlock(group), levels);
  const cb = CODEBOOKS[codebook].exact
    ? 0
    : codebookRoundingBound(CODEBOOKS[codebook].values, rowScales, group, x, xOff, k);
  return xr + cb + F32_SLACK * (4 + k / 32) * 2 ** -24 * (mag + xr + cb);
}

interface Case {
  m: number;
  n: number;
  k: number;
  group: number;
  dq: boolean;
  codebook: CodebookName;
  seed: number;
}

/** A random nibble weight for `c` (scales in [0, 1), or double-quantised with chunk 5) and x. */
function build(c: Case) {
  const rng = new Rng(c.seed);
  const G = Math.ceil(c.k / c.group);
  const data = new Uint8Array((c.n * c.k) / 2).map(() => rng.int(256));
  const codebook = Float32Array.from(CODEBOOKS[c.codebook].values);
  const chunk = 5; // small, so that chunks straddle rows and tiles
  const weight: DequantWeight = c.dq
    ? {
        format: "nibble",
        data,
        codebook,
        group: c.group,
        scales: new Float32Array(0),
        dq: {
          codes: new Int8Array(c.n * G).map(() => rng.int(255) - 127),
          chunkScales: new Float32Array(Math.ceil((c.n * G) / chunk)).map(() => rng.uniform() * 0.01),
          chunk,
          mean: 0.5,
        },
      }
    : {
        format: "nibble",
        data,
        codebook,
        group: c.group,
        scales: new Float32Array(c.n * G).map(() => rng.uniform()),
      };
  const scales = new Float32Array(c.n * G);
  if (weight.format === "nibble" && weight.dq) decodeDqScales(weight.dq, c.n * G, scales);
  else if (weight.format === "nibble") scales.set(weight.scales);
  const x = new Float32Array(c.m * c.k).map(() => rng.uniform() * 2 - 1);
  return { weight, scales, x, G };
}

/** Rows of the kernel's y [m, n] that miss the oracle by more than `bound` (empty when all pass). */
function misses(
  c: Case,
  weight: DequantWeight,
  scales: Float32Array,
  x: Float32Array,
  y: Float32Array,
  flavor: WasmFlavor,
) {
  const G = Math.ceil(c.k / c.group);
  const bad: string[] = [];
  for (let j = 0; j < c.n; j++) {
    const row = dequantRowNaive("nibble", weight.data, j, c.k, weight as never);
    for (let i = 0; i < c.m; i++) {
      let want = 0;
      for (let q = 0; q < c.k; q++) want += x[i * c.k + q]! * row[q]!;
      const rowScales = scales.subarray(j * G, (j + 1) * G);
      const tol = bound(row, x, i * c.k, c.k, c.group, c.codebook, rowScales, flavor);
      const err = Math.abs(y[i * c.n + j]! - want);
      if (!(err <= tol)) bad.push(`y[${i}, ${j}] = ${y[i * c.n + j]} vs ${want} (|err| ${err} > ${tol})`);
    }
  }
  return bad;
}

function gemv(c: Case, weight: DequantWeight, x: Float32Array, threads: number): Float32Array {
  const y = new Float32Array(c.m * c.n);
  wasmMatmulDequant({ m: c.m, n: c.n, k: c.k, x, weight, y, threads });
  return y;
}

describe.each(WASM_FLAVORS)("nibble GEMV kernel vs the dequantise-then-FP32 oracle (%s)", (flavor) => {
  useWasmFlavor(flavor);

  it("every codebook kind, f32 and double-quantised scales, m 1..4, n not a multiple of 4, groups 32..k", () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: GEMV_MAX_M }),
          n: fc.integer({ min: 1, max: 13 }),
          k: fc.integer({ min: 1, max: 12 }).map((b) => b * 32),
          group: fc.constantFrom(32, 64, 96, 128, 0), // 0: one group per row (k)
          dq: fc.boolean(),
          codebook: fc.constantFrom<CodebookName>("int4", "halves", "nf4", "unsorted"),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        (raw) => {
          const c = { ...raw, group: raw.group === 0 ? raw.k : raw.group };
          const { weight, scales, x } = build(c);
          expect(misses(c, weight, scales, x, gemv(c, weight, x, 1), flavor)).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("decode-sized NF4 (dq) and INT4 (group 32) weights over 2 threads, m = 1..3, tiles and one row", () => {
    for (const c of [
      // m·n·k above the split threshold (GEMV_SPLIT_MIN_WORK) in every case
      { m: 1, n: 1030, k: 2048, group: 64, dq: true, codebook: "nf4", seed: 5 },
      { m: 3, n: 1030, k: 1024, group: 64, dq: true, codebook: "nf4", seed: 6 },
      { m: 1, n: 1031, k: 2048, group: 32, dq: false, codebook: "int4", seed: 7 },
      // ≥ 1 MiB of codes: one row per pass (assembly ONE_ROW_MIN_BYTES), k = 1952 leaving a tail of
      // x-blocks after the steps of four, the last one shorter (61 blocks of 32 in groups of 64)
      { m: 2, n: 1100, k: 1952, group: 64, dq: true, codebook: "nf4", seed: 8 },
      { m: 2, n: 1100, k: 1952, group: 32, dq: false, codebook: "int4", seed: 9 },
    ] as const) {
      expect(gemvThreads(2, c.m * c.n * c.k, c.n)).toBe(2);
      const { weight, scales, x } = build(c);
      const y2 = gemv(c, weight, x, 2);
      expect(misses(c, weight, scales, x, y2, flavor)).toEqual([]);
      expect(y2).toEqual(gemv(c, weight, x, 1)); // blocks of rows from the shared counter, bit for bit
    }
  });

  it("the bound is tight enough to catch one wrong code (the check can fail)", () => {
    for (const codebook of ["nf4", "int4"] as const) {
      const c = { m: 1, n: 5, k: 256, group: 64, dq: false, codebook, seed: 9 };
      const { weight, scales, x } = build(c);
      const y = gemv(c, weight, x, 1);
      expect(misses(c, weight, scales, x, y, flavor)).toEqual([]);
      // Row 2's code at the largest |x| moves from code 0 to 15 (or back): the oracle shifts by
      // |x|·scale·|v15 − v0| ≥ 0.5·scale·2, far outside the bound.
      let at = 0;
      for (let q = 0; q < c.k; q++) if (Math.abs(x[q]!) > Math.abs(x[at]!)) at = q;
      const wrong = Uint8Array.from(weight.data);
      const byte = 2 * (c.k / 2) + (at >> 1);
      const shift = at % 2 === 0 ? 0 : 4;
      const code = (wrong[byte]! >> shift) & 15;
      wrong[byte] = (wrong[byte]! & ~(15 << shift)) | ((code < 8 ? 15 : 0) << shift);
      const bad = misses(c, { ...weight, data: wrong }, scales, x, y, flavor);
      expect(bad.length).toBe(1);
      expect(bad[0]).toMatch(/^y\[0, 2\]/);
    }
  });
});
