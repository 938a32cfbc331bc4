import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { f32ToF16 } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { getLedger } from "../ledger.js";
import { Rng } from "../rng.js";
import {
  type DequantFormat,
  dequantRowBytes,
  dequantRowNaive,
  wasmDequantRows,
  wasmMatmulDequant,
} from "./dequant.js";
import { disposeWasm } from "./runtime.js";

/** Decoding is exact up to one f32 rounding of code·scale. */
const DEQUANT_TOL = { atol: 0, rtol: 1e-6 } as const;
/** The fused matmul sums k products in f32 (SIMD order) vs the oracle's f64 sum of the same values. */
const DEQUANT_MATMUL_TOL = { atol: 1e-4, rtol: 1e-4 } as const;

afterAll(() => disposeWasm());

/** Random packed weights: arbitrary code bytes, f16 block scales in [−0.1, 0.1], NF4 absmax in [0, 1]. */
function randomWeight(format: DequantFormat, n: number, k: number, block: number, rng: Rng) {
  const rb = dequantRowBytes(format, k);
  const w = new Uint8Array(n * rb);
  for (let i = 0; i < w.length; i++) w[i] = rng.int(256);
  if (format !== "nf4") {
    const bs = format === "q8_0" ? 34 : 18;
    for (let at = 0; at < w.length; at += bs) {
      const h = f32ToF16((rng.uniform() * 2 - 1) * 0.1);
      w[at] = h & 255;
      w[at + 1] = h >> 8;
    }
  }
  const absmax = new Float32Array((n * k) / block).map(() => rng.uniform());
  return { w, absmax };
}

const formats: DequantFormat[] = ["q8_0", "q4_0", "nf4"];

describe("wasm dequantising kernels vs the scalar JS oracle", () => {
  for (const format of formats) {
    it(`${format}: decoded rows (DEQUANT_TOL) and fused matmul (DEQUANT_MATMUL_TOL), 1 and 2 threads`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 4 }),
          fc.constantFrom(1, 2),
          fc.integer({ min: 1, max: 1 << 30 }),
          (m, n, kBlocks, threads, seed) => {
            const rng = new Rng(seed);
            const block = 64;
            const k = kBlocks * 64;
            const { w, absmax } = randomWeight(format, n, k, block, rng);
            const opts = { absmax, block, threads };
            const rows = new Float32Array(n * k);
            wasmDequantRows(format, w, n, k, rows, opts);
            const x = new Float32Array(m * k).map(() => rng.uniform() * 2 - 1);
            const y = new Float32Array(m * n);
            wasmMatmulDequant(format, x, m, k, w, n, y, opts);
            for (let j = 0; j < n; j++) {
              const want = dequantRowNaive(format, w, j, k, opts);
              for (let c = 0; c < k; c++) {
                const err = Math.abs(rows[j * k + c]! - want[c]!);
                if (err > DEQUANT_TOL.atol + DEQUANT_TOL.rtol * Math.abs(want[c]!)) return false;
              }
              for (let i = 0; i < m; i++) {
                let s = 0;
                for (let c = 0; c < k; c++) s += x[i * k + c]! * want[c]!;
                const err = Math.abs(y[i * n + j]! - s);
                if (err > DEQUANT_MATMUL_TOL.atol + DEQUANT_MATMUL_TOL.rtol * Math.abs(s)) return false;
              }
            }
            return true;
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it("a decode-sized Q4_0 GEMV (1×512×4096) splits across 2 threads and matches", () => {
    const rng = new Rng(3);
    const n = 512;
    const k = 4096;
    const { w } = randomWeight("q4_0", n, k, 64, rng);
    const x = new Float32Array(k).map(() => rng.uniform() * 2 - 1);
    const y = new Float32Array(n);
    wasmMatmulDequant("q4_0", x, 1, k, w, n, y, { threads: 2 });
    for (const j of [0, 255, 256, 511]) {
      const row = dequantRowNaive("q4_0", w, j, k);
      let s = 0;
      for (let c = 0; c < k; c++) s += x[c]! * row[c]!;
      expect(Math.abs(y[j]! - s)).toBeLessThanOrEqual(
        DEQUANT_MATMUL_TOL.atol + DEQUANT_MATMUL_TOL.rtol * Math.abs(s),
      );
    }
  });

  it("rejects bad shapes with ShapeError naming what is valid, and leaks nothing", () => {
    const before = getLedger().live();
    const y = new Float32Array(4);
    expect(() => wasmMatmulDequant("q8_0", new Float32Array(40), 1, 40, new Uint8Array(100), 1, y)).toThrow(
      /multiple of 32/,
    );
    expect(() => wasmMatmulDequant("nf4", new Float32Array(64), 1, 64, new Uint8Array(32), 1, y)).toThrow(
      ShapeError,
    );
    expect(() =>
      wasmMatmulDequant("q4_0", new Float32Array(64), 1, 64, new Uint8Array(10), 1, y, { threads: 1 }),
    ).toThrow(/needs 36 bytes/);
    expect(getLedger().live()).toBe(before);
  });
});
