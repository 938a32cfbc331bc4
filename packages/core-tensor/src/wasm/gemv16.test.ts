// The 16-bit float GEMV (assembly/gemv16.ts) against the decode-then-f64 oracle: odd shapes through
// every block and tail of both kernels, 1 and 2 threads, FP16 decoded exactly in the SIMD lanes
// (subnormals, the 2^56 scaling), and ±Inf / NaN halves in every lane and row position of a block.
// Not here: the other dequantising formats (dequant.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import { bf16ToF32, f16ToF32, f32ToBF16, f32ToF16 } from "../dtype.js";
import { Rng } from "../rng.js";
import { wasmMatmulDequant } from "./dequant.js";
import { gemvThreads } from "./matmul.js";
import { disposeWasm } from "./runtime.js";

afterAll(() => disposeWasm());

type Sixteen = "f16" | "bf16";
const decode = (format: Sixteen, h: number) => (format === "f16" ? f16ToF32(h) : bf16ToF32(h));

/**
 * The kernel sums k f32 products in its own order; against the oracle's f64 sum of the same decoded
 * values the error is at most about k·2^-24·Σ|x·w| (a sequential f32 sum's bound, with headroom 2).
 */
const SUM_ULPS_PER_TERM = 2 * 2 ** -24;

function weight(format: Sixteen, n: number, k: number, rng: Rng, subnormalEvery = 0): Uint16Array {
  const bits = format === "f16" ? f32ToF16 : f32ToBF16;
  const h = new Uint16Array(n * k);
  for (let i = 0; i < h.length; i++) h[i] = bits(rng.normal() * 0.5);
  // FP16 subnormals (exponent 0): |w| < 2^-14, the lanes that decode to denormal f32 patterns.
  if (subnormalEvery > 0) for (let i = 0; i < h.length; i += subnormalEvery) h[i] = (i & 0x83ff) | 1;
  return h;
}

function run(format: Sixteen, h: Uint16Array, x: Float32Array, m: number, n: number, k: number, threads = 1) {
  const y = new Float32Array(m * n).fill(Number.NaN);
  const data = new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
  wasmMatmulDequant({ m, n, k, x, weight: { format, data }, y, threads });
  return y;
}

/** Oracle y[i, j] = Σ_q x[i, q]·decode(W[j, q]) in f64, and Σ|x·w| for the tolerance. */
function oracle(format: Sixteen, h: Uint16Array, x: Float32Array, m: number, n: number, k: number) {
  const want = new Float64Array(m * n);
  const mass = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let a = 0;
      for (let q = 0; q < k; q++) {
        const p = x[i * k + q]! * decode(format, h[j * k + q]!);
        s += p;
        a += Math.abs(p);
      }
      want[i * n + j] = s;
      mass[i * n + j] = a;
    }
  return { want, mass };
}

function expectClose(
  format: Sixteen,
  h: Uint16Array,
  x: Float32Array,
  m: number,
  n: number,
  k: number,
  y: Float32Array,
) {
  const { want, mass } = oracle(format, h, x, m, n, k);
  for (let t = 0; t < m * n; t++) {
    const err = Math.abs(y[t]! - want[t]!);
    const tol = SUM_ULPS_PER_TERM * (k + 2) * mass[t]!;
    if (!(err <= tol))
      expect.fail(`${format} m=${m} n=${n} k=${k}: y[${t}] = ${y[t]}, oracle ${want[t]} (tol ${tol})`);
  }
}

describe("16-bit float GEMV (gemv16.ts) vs decode-then-f64", () => {
  for (const format of ["f16", "bf16"] as const) {
    it(`${format}: odd shapes (n, k not multiples of 8 or 4; m = 1..5), every block and tail`, () => {
      const rng = new Rng(format === "f16" ? 11 : 12);
      for (const n of [1, 3, 4, 5, 7, 8, 9, 12, 13, 17]) {
        for (const k of [1, 5, 8, 13, 16, 33, 67]) {
          for (const m of [1, 2, 3, 4, 5]) {
            const h = weight(format, n, k, rng, format === "f16" ? 7 : 0);
            const x = Float32Array.from({ length: m * k }, () => rng.normal());
            expectClose(format, h, x, m, n, k, run(format, h, x, m, n, k));
          }
        }
      }
    });

    it(`${format}: a decode-sized product splits over 2 threads and matches`, () => {
      const rng = new Rng(13);
      const [n, k] = [1031, 2053]; // odd on both sides; n·k above the split threshold
      expect(gemvThreads(2, n * k, n)).toBe(2);
      const h = weight(format, n, k, rng, format === "f16" ? 97 : 0);
      const x = Float32Array.from({ length: k }, () => rng.normal());
      const y2 = run(format, h, x, 1, n, k, 2);
      expectClose(format, h, x, 1, n, k, y2);
      expect(y2).toEqual(run(format, h, x, 1, n, k, 1)); // blocks of rows from the shared counter, bit for bit
    });
  }

  it("f16: every subnormal, ±0 and extreme normal decodes exactly in a SIMD lane (one-hot x)", () => {
    // W [n, 16], row j holds one half at column c = j % 16 (a SIMD column: k = 16 has no tail);
    // x = 1 at c: y[j] is that half's value, with no rounding anywhere when the decode is exact.
    const values = [0x0000, 0x8000, 0x0001, 0x8001, 0x0200, 0x83ff, 0x03ff, 0x0400, 0x8400, 0x7bff, 0xfbff];
    for (let v = 0x0001; v < 0x0400; v += 37) values.push(v, v | 0x8000);
    const k = 16;
    const n = values.length;
    for (let c = 0; c < k; c++) {
      const h = new Uint16Array(n * k);
      values.forEach((v, j) => {
        h[j * k + c] = v;
      });
      const x = new Float32Array(k);
      x[c] = 1;
      const y = run("f16", h, x, 1, n, k);
      values.forEach((v, j) => {
        if (y[j] !== f16ToF32(v) && !(y[j] === 0 && f16ToF32(v) === 0))
          expect.fail(`half 0x${v.toString(16)} in column ${c}: got ${y[j]}, want ${f16ToF32(v)}`);
      });
    }
  });

  it("±Inf and NaN halves in any SIMD lane or tail column, any row of a block, give ±Inf / NaN", () => {
    const k = 21; // 16 SIMD columns and a 5-column tail
    const n = 13; // FP16: three 4-row blocks and one single row; BF16: one 8-row block and five single rows
    const rng = new Rng(14);
    const x = Float32Array.from({ length: k }, () => 0.5 + rng.uniform()); // positive: signs survive
    for (const format of ["f16", "bf16"] as const) {
      const specials =
        format === "f16"
          ? [
              [0x7c00, Infinity],
              [0xfc00, -Infinity],
              [0x7e01, Number.NaN],
              [0xfd00, Number.NaN],
            ]
          : [
              [0x7f80, Infinity],
              [0xff80, -Infinity],
              [0x7fc1, Number.NaN],
            ];
      for (const [bits, want] of specials as [number, number][]) {
        for (const c of [0, 1, 6, 7, 8, 15, 16, 20]) {
          for (const r of [0, 3, 4, 7, 8, 11, 12]) {
            const h = weight(format, n, k, rng);
            h[r * k + c] = bits;
            const y = run(format, h, x, 1, n, k);
            expect(Object.is(y[r], want), `${format} 0x${bits.toString(16)} at [${r}, ${c}]: ${y[r]}`).toBe(
              true,
            );
            // The other rows of the same block stay finite and right.
            for (let j = 0; j < n; j++) if (j !== r) expect(Number.isFinite(y[j])).toBe(true);
            const others = h.slice();
            others[r * k + c] = 0;
            const { want: ref } = oracle(format, others, x, 1, n, k);
            for (let j = 0; j < n; j++) if (j !== r) expect(y[j]).toBeCloseTo(ref[j]!, 4);
          }
        }
      }
    }
  });
});
