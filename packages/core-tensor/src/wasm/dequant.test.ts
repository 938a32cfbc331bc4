import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { DequantWeight } from "../backend.js";
import { f16ToF32, f32ToBF16, f32ToF16 } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { getLedger } from "../ledger.js";
import { Rng } from "../rng.js";
import {
  type DequantFormat,
  decodeDqScales,
  dequantRowBytes,
  dequantRowNaive,
  NF4_TABLE,
  nibbleRoundingBound,
  wasmDequantRows,
  wasmMatmulDequant,
  x16RoundingBound,
  xCodeLevels,
} from "./dequant.js";
import { DEQUANT_TILE_ELEMENTS, wasmMatmulDequantTiles } from "./dequant-gemm.js";
import { GEMV_MAX_M } from "./matmul.js";
import { disposeWasm, wasmRuntime } from "./runtime.js";

/** Decoding is exact up to one f32 rounding of code·scale. */
const DEQUANT_TOL = { atol: 0, rtol: 1e-6 } as const;
/** The fused matmul sums k products in f32 (SIMD order) vs the oracle's f64 sum of the same values. */
const DEQUANT_MATMUL_TOL = { atol: 1e-4, rtol: 1e-4 } as const;

afterAll(() => disposeWasm());

/**
 * Random packed weights: arbitrary code bytes; GGUF formats get f16 block scales in [−0.1, 0.1];
 * `nibble` gets the NF4 codebook, `group` and scales in [0, 1].
 */
function randomWeight(format: DequantFormat, n: number, k: number, group: number, rng: Rng): DequantWeight {
  const data = new Uint8Array(n * dequantRowBytes(format, k));
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  if (format === "nibble") {
    const scales = new Float32Array(n * Math.ceil(k / group)).map(() => rng.uniform());
    return { format, data, codebook: Float32Array.from(NF4_TABLE), group, scales };
  }
  if (format === "i8") {
    const scales = new Float32Array(n * Math.ceil(k / group)).map(() => rng.uniform() * 0.01);
    return { format, data, group, scales };
  }
  if (format === "f16" || format === "bf16") {
    const bits = format === "f16" ? f32ToF16 : f32ToBF16;
    for (let i = 0; i < n * k; i++) {
      const h = bits((rng.uniform() * 2 - 1) * 2);
      data[2 * i] = h & 255;
      data[2 * i + 1] = h >> 8;
    }
    return { format, data };
  }
  const bs = format === "q8_0" ? 34 : 18;
  for (let at = 0; at < data.length; at += bs) {
    const h = f32ToF16((rng.uniform() * 2 - 1) * 0.1);
    data[at] = h & 255;
    data[at + 1] = h >> 8;
  }
  return { format, data };
}

const naiveRow = (w: DequantWeight, j: number, k: number) =>
  dequantRowNaive(w.format, w.data, j, k, w.format === "nibble" || w.format === "i8" ? w : undefined);

describe("wasm dequantising kernels vs the scalar JS oracle", () => {
  for (const format of ["q8_0", "q4_0", "nibble", "i8", "f16", "bf16"] as const) {
    it(`${format}: decoded rows (DEQUANT_TOL) and fused matmul (DEQUANT_MATMUL_TOL), odd shapes, 1 and 2 threads`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 40 }),
          // GGUF formats: k a multiple of 32; others: any k, odd included, and groups that do not divide it
          format !== "q8_0" && format !== "q4_0"
            ? fc.integer({ min: 1, max: 150 })
            : fc.integer({ min: 1, max: 6 }).map((b) => b * 32),
          fc.constantFrom(2, 3, 6, 32, 64),
          fc.constantFrom(1, 2),
          fc.integer({ min: 1, max: 1 << 30 }),
          (m, n, k, group, threads, seed) => {
            const rng = new Rng(seed);
            const weight = randomWeight(format, n, k, group, rng);
            const rows = new Float32Array(n * k);
            wasmDequantRows(weight, n, k, rows);
            const x = new Float32Array(m * k).map(() => rng.uniform() * 2 - 1);
            const y = new Float32Array(m * n);
            wasmMatmulDequant({ m, n, k, x, weight, y, threads });
            for (let j = 0; j < n; j++) {
              const want = naiveRow(weight, j, k);
              for (let c = 0; c < k; c++) {
                const err = Math.abs(rows[j * k + c]! - want[c]!);
                if (err > DEQUANT_TOL.atol + DEQUANT_TOL.rtol * Math.abs(want[c]!)) return false;
              }
              for (let i = 0; i < m; i++) {
                let s = 0;
                for (let c = 0; c < k; c++) s += x[i * k + c]! * want[c]!;
                const err = Math.abs(y[i * n + j]! - s);
                // The GGUF and INT8 GEMV kernels (m ≤ GEMV_MAX_M; INT8 with k and group multiples of
                // 32) also round x to 16 bits per 32-block (relaxed build: 8 bits, xCodeLevels).
                const x16 =
                  (format === "q8_0" ||
                    format === "q4_0" ||
                    (format === "i8" && k % 32 === 0 && group % 32 === 0)) &&
                  m <= GEMV_MAX_M
                    ? x16RoundingBound(want, x, i * k, k, 32, xCodeLevels(wasmRuntime().flavor, format))
                    : weight.format === "nibble" && m <= GEMV_MAX_M && k % 32 === 0 && group % 32 === 0
                      ? nibbleRoundingBound(
                          want,
                          weight.codebook,
                          weight.scales.subarray(j * Math.ceil(k / group)),
                          group,
                          x,
                          i * k,
                          k,
                        )
                      : 0;
                if (err > DEQUANT_MATMUL_TOL.atol + DEQUANT_MATMUL_TOL.rtol * Math.abs(s) + x16) return false;
              }
            }
            return true;
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it("nibble GEMV (k, group multiples of 32; a shorter last group): f32 and double-quantised scales", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: GEMV_MAX_M }),
        fc.integer({ min: 1, max: 13 }),
        fc.integer({ min: 1, max: 9 }).map((b) => b * 32),
        fc.constantFrom(32, 64, 96, 128),
        fc.boolean(),
        fc.constantFrom(1, 2),
        fc.integer({ min: 1, max: 1 << 30 }),
        (m, n, k, group, dq, threads, seed) => {
          const rng = new Rng(seed);
          const plain = randomWeight("nibble", n, k, group, rng);
          if (plain.format !== "nibble") return false;
          const G = Math.ceil(k / group);
          const chunk = 5; // small, so that chunks straddle rows
          const weight: DequantWeight = dq
            ? {
                ...plain,
                scales: new Float32Array(0),
                dq: {
                  codes: new Int8Array(n * G).map(() => rng.int(255) - 127),
                  chunkScales: new Float32Array(Math.ceil((n * G) / chunk)).map(() => rng.uniform() * 0.01),
                  chunk,
                  mean: 0.5,
                },
              }
            : plain;
          const scales = new Float32Array(n * G);
          if (weight.format === "nibble" && weight.dq) decodeDqScales(weight.dq, n * G, scales);
          else scales.set(plain.scales);
          const x = new Float32Array(m * k).map(() => rng.uniform() * 2 - 1);
          const y = new Float32Array(m * n);
          wasmMatmulDequant({ m, n, k, x, weight, y, threads });
          for (let j = 0; j < n; j++) {
            const want = naiveRow(weight, j, k);
            const rowScales = scales.subarray(j * G, (j + 1) * G);
            for (let i = 0; i < m; i++) {
              let s = 0;
              for (let c = 0; c < k; c++) s += x[i * k + c]! * want[c]!;
              const bound =
                DEQUANT_MATMUL_TOL.atol +
                DEQUANT_MATMUL_TOL.rtol * Math.abs(s) +
                nibbleRoundingBound(want, NF4_TABLE, rowScales, group, x, i * k, k);
              if (!(Math.abs(y[i * n + j]! - s) <= bound)) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });

  it("f16 / bf16 GEMV decodes every value exactly: subnormals, ±0, ±Inf, NaN, odd k", () => {
    const halves = [
      0x0000, 0x8000, 0x0001, 0x83ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0x3555,
    ];
    // W [13, 13] is diagonal: W[j, j] = halves[j] lands in every SIMD lane, the scalar tail, the
    // four-row blocks and the single last row; x = 1 makes y[j] that one decoded value.
    const k = halves.length;
    const n = k;
    for (const format of ["f16", "bf16"] as const) {
      const data = new Uint8Array(n * k * 2);
      for (let j = 0; j < n; j++) {
        data[2 * (j * k + j)] = halves[j]! & 255;
        data[2 * (j * k + j) + 1] = halves[j]! >> 8;
      }
      const y = new Float32Array(n);
      wasmMatmulDequant({
        m: 1,
        n,
        k,
        x: new Float32Array(k).fill(1),
        weight: { format, data },
        y,
        threads: 1,
      });
      for (let j = 0; j < n; j++) {
        const want = dequantRowNaive(format, data, j, k)[j]!;
        // +0 partial sums turn a −0 weight into +0; NaN stays NaN.
        expect(y[j] === want || (Number.isNaN(y[j]) && Number.isNaN(want))).toBe(true);
      }
    }
  });

  it("Q8_0 row decoder: every one of the 65536 f16 block scales decodes exactly", () => {
    // Block b (row b >> 5, block b & 31 of k = 1024) has scale bits b and every code 1, so each of its
    // 32 decoded values is exactly f16(b): normals, subnormals, ±0, ±Inf and NaN.
    const [n, k] = [2048, 1024];
    const data = new Uint8Array(n * dequantRowBytes("q8_0", k)).fill(1);
    for (let b = 0; b < 65536; b++) {
      data[b * 34] = b & 255;
      data[b * 34 + 1] = b >> 8;
    }
    const out = new Float32Array(n * k);
    wasmDequantRows({ format: "q8_0", data }, n, k, out);
    let wrong = 0;
    for (let b = 0; b < 65536; b++) {
      const want = f16ToF32(b);
      for (const t of [0, 31]) {
        const got = out[b * 32 + t]!;
        if (!(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)))) wrong++;
      }
    }
    expect(wrong).toBe(0);
  });

  it("f16 / bf16 row decoders: every one of the 65536 bit patterns decodes exactly", () => {
    // W [1, 65539]: pattern t at column t (the last three repeat 0..2 in the scalar tail).
    const k = 65539;
    const data = new Uint8Array(2 * k);
    for (let t = 0; t < k; t++) {
      data[2 * t] = t & 255;
      data[2 * t + 1] = (t >> 8) & 255;
    }
    for (const format of ["f16", "bf16"] as const) {
      const out = new Float32Array(k);
      wasmDequantRows({ format, data }, 1, k, out);
      const want = dequantRowNaive(format, data, 0, k);
      let wrong = 0;
      for (let t = 0; t < k; t++) {
        const [got, w] = [out[t]!, want[t]!];
        if (!(Object.is(got, w) || (Number.isNaN(got) && Number.isNaN(w)))) wrong++;
      }
      expect(wrong, format).toBe(0);
    }
  });

  it("nibble: element 2t is the LOW nibble of byte t (the quant package's layout)", () => {
    const codebook = Float32Array.from({ length: 16 }, (_, i) => i);
    const weight: DequantWeight = {
      format: "nibble",
      data: Uint8Array.of(0x21, 0x03), // codes 1, 2, 3 (k = 3: the last high nibble is unused)
      codebook,
      group: 2,
      scales: Float32Array.of(1, 10),
    };
    const out = new Float32Array(3);
    wasmDequantRows(weight, 1, 3, out);
    expect(Array.from(out)).toEqual([1, 2, 30]);
  });

  it("a decode-sized Q4_0 GEMV (1×512×4096) splits across 2 threads and matches", () => {
    const rng = new Rng(3);
    const n = 512;
    const k = 4096;
    const weight = randomWeight("q4_0", n, k, 32, rng);
    const x = new Float32Array(k).map(() => rng.uniform() * 2 - 1);
    const y = new Float32Array(n);
    wasmMatmulDequant({ m: 1, n, k, x, weight, y, threads: 2 });
    for (const j of [0, 255, 256, 511]) {
      const row = naiveRow(weight, j, k);
      let s = 0;
      for (let c = 0; c < k; c++) s += x[c]! * row[c]!;
      expect(Math.abs(y[j]! - s)).toBeLessThanOrEqual(
        DEQUANT_MATMUL_TOL.atol +
          DEQUANT_MATMUL_TOL.rtol * Math.abs(s) +
          x16RoundingBound(row, x, 0, k, 32, xCodeLevels(wasmRuntime().flavor, "q4_0")),
      );
    }
  });

  it("rejects bad shapes with ShapeError naming what is valid, and leaks nothing", () => {
    const before = getLedger().live();
    const y = new Float32Array(4);
    const q8 = { format: "q8_0", data: new Uint8Array(100) } as const;
    expect(() => wasmMatmulDequant({ m: 1, n: 1, k: 40, x: new Float32Array(40), weight: q8, y })).toThrow(
      /multiple of 32/,
    );
    const nib: DequantWeight = {
      format: "nibble",
      data: new Uint8Array(32),
      codebook: new Float32Array(16),
      group: 64,
      scales: new Float32Array(0),
    };
    expect(() => wasmMatmulDequant({ m: 1, n: 1, k: 64, x: new Float32Array(64), weight: nib, y })).toThrow(
      ShapeError,
    );
    const q4 = { format: "q4_0", data: new Uint8Array(10) } as const;
    expect(() =>
      wasmMatmulDequant({ m: 1, n: 1, k: 64, x: new Float32Array(64), weight: q4, y, threads: 1 }),
    ).toThrow(/needs 36 bytes/);
    expect(getLedger().live()).toBe(before);
  });
});

/**
 * The tiled GEMM sums each output's products in f32 in its own order: within k·2⁻²⁴·Σ|products| of
 * the f64 sum (the standard bound for a recursive sum), with headroom 2, plus an absolute floor.
 */
const gemmBound = (terms: number, absSum: number) => 1e-6 + 2 * terms * 2 ** -24 * absSum;

/**
 * The oracle of `wasmMatmulDequantTiles`: W decoded by `dequantRowNaive`, f64 sums. Returns how many
 * outputs fall outside `gemmBound`.
 */
function tilesMisses(
  mode: "forward" | "inputGrad",
  weight: DequantWeight,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  c: Float32Array,
): number {
  const rows = Array.from({ length: n }, (_, j) => naiveRow(weight, j, k));
  let misses = 0;
  const inner = mode === "forward" ? k : n;
  const outer = mode === "forward" ? n : k;
  for (let i = 0; i < m; i++) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      let abs = 0;
      for (let q = 0; q < inner; q++) {
        const t = mode === "forward" ? a[i * k + q]! * rows[o]![q]! : a[i * n + q]! * rows[q]![o]!;
        s += t;
        abs += Math.abs(t);
      }
      if (!(Math.abs(c[i * outer + o]! - s) <= gemmBound(inner, abs))) misses++;
    }
  }
  return misses;
}

describe("wasmMatmulDequantTiles: W decoded a tile at a time for the GEMM, against the scalar oracle", () => {
  it("forward (x·Wᵀ) and inputGrad (g·W) for every row-decoded format, odd shapes, 1 and 2 threads", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("q8_0", "q4_0", "nibble", "i8", "f16", "bf16"),
        fc.constantFrom("forward", "inputGrad"),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 150 }),
        fc.constantFrom(2, 3, 6, 32, 64),
        fc.constantFrom(1, 2),
        fc.integer({ min: 1, max: 1 << 30 }),
        (format, mode, m, n, kAny, group, threads, seed) => {
          const k = format === "q8_0" || format === "q4_0" ? Math.ceil(kAny / 32) * 32 : kAny;
          const rng = new Rng(seed);
          const weight = randomWeight(format, n, k, group, rng);
          const a = new Float32Array(m * (mode === "forward" ? k : n)).map(() => rng.uniform() * 2 - 1);
          const c = new Float32Array(m * (mode === "forward" ? n : k)).fill(Number.NaN);
          expect(wasmMatmulDequantTiles({ mode, m, n, k, weight, a, c, threads })).toBe(true);
          return tilesMisses(mode, weight, m, n, k, a, c) === 0;
        },
      ),
      { numRuns: 80 },
    );
  });

  it("several tiles (300 rows of k = 1024: 256 + 44), 70 rows of x, 2 threads, both products", () => {
    const [m, n, k] = [70, 300, 1024];
    expect(Math.floor(DEQUANT_TILE_ELEMENTS / k)).toBe(256);
    const rng = new Rng(5);
    for (const weight of [randomWeight("q4_0", n, k, 32, rng), randomWeight("i8", n, k, 6, rng)]) {
      for (const mode of ["forward", "inputGrad"] as const) {
        const a = new Float32Array(m * (mode === "forward" ? k : n)).map(() => rng.uniform() * 2 - 1);
        const c = new Float32Array(m * (mode === "forward" ? n : k));
        wasmMatmulDequantTiles({ mode, m, n, k, weight, a, c, threads: 2 });
        expect(tilesMisses(mode, weight, m, n, k, a, c), `${weight.format} ${mode}`).toBe(0);
      }
    }
  });

  it("declines f32x8 (no row decoder) without writing; bad shapes throw; no leak", () => {
    const before = getLedger().live();
    const c = new Float32Array(4).fill(7);
    const f32x8 = { format: "f32x8", data: new Uint8Array(8 * 4 * 4) } as const;
    const a = new Float32Array(2);
    expect(wasmMatmulDequantTiles({ mode: "inputGrad", m: 1, n: 2, k: 2, weight: f32x8, a, c })).toBe(false);
    expect(Array.from(c)).toEqual([7, 7, 7, 7]);
    const q8 = randomWeight("q8_0", 2, 32, 32, new Rng(1));
    expect(() =>
      wasmMatmulDequantTiles({ mode: "forward", m: 2, n: 2, k: 32, weight: q8, a: new Float32Array(63), c }),
    ).toThrow(/a needs 64 and c 4 elements, got 63 and 4/);
    expect(() => wasmMatmulDequantTiles({ mode: "inputGrad", m: 2, n: 2, k: 32, weight: q8, a, c })).toThrow(
      ShapeError,
    );
    expect(getLedger().live()).toBe(before);
  });

  it("charges its workspace (x, the output, one tile, packing scratch) to tmp/wasm only during the call", () => {
    const [m, n, k] = [9, 40, 64];
    const weight = randomWeight("q8_0", n, k, 32, new Rng(2));
    const ledger = getLedger();
    const before = ledger.live();
    const { peakAbove } = ledger.measure(() =>
      wasmMatmulDequantTiles({
        mode: "forward",
        m,
        n,
        k,
        weight,
        a: new Float32Array(m * k),
        c: new Float32Array(m * n),
      }),
    );
    const packed = n * dequantRowBytes("q8_0", k); // not resident here: copied in
    const floor = 4 * (m * k + m * n + n * k) + packed + 2 * wasmRuntime().gemmScratchBytes;
    expect(peakAbove.tmp ?? 0).toBeGreaterThanOrEqual(floor);
    expect(peakAbove.tmp ?? 0).toBeLessThan(floor + 64 * 8);
    expect(ledger.live()).toBe(before);
  });
});
