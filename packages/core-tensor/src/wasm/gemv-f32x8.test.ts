// The tiled-f32 GEMV (assembly/gemv-f32x8.ts) against the f64 sum over the row-major weight: the
// layout round-trips exactly (src/f32x8.ts), odd shapes cross every padding and block / segment
// boundary (n past 64 and not a multiple of 8, k past 256 and not a multiple of 4), m > 1, and the
// 2-thread split gives 1 thread's y bit for bit. Not here: the row-major f32 GEMV (matmul.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import { ShapeError, ValueError } from "../errors.js";
import {
  F32X8_BLOCK_ROWS,
  F32X8_SEGMENT,
  f32x8Floats,
  f32x8Index,
  gemvF32x8Js,
  packF32x8,
  unpackF32x8Rows,
} from "../f32x8.js";
import { Rng } from "../rng.js";
import { dequantRowNaive, wasmDequantRows, wasmMatmulDequant } from "./dequant.js";
import { gemvThreads } from "./matmul.js";
import { disposeWasm } from "./runtime.js";

afterAll(() => disposeWasm());

/**
 * The kernel sums k f32 products in its own order (per 4-column lane, per segment, then across); the
 * error against the f64 sum is at most about k·2^-24·Σ|x·w| (a sequential f32 sum's bound, headroom 2).
 */
const SUM_ULPS_PER_TERM = 2 * 2 ** -24;

function packed(w: Float32Array, n: number, k: number): Uint8Array {
  const out = new Float32Array(f32x8Floats(n, k));
  packF32x8(w, n, k, out);
  return new Uint8Array(out.buffer);
}

function run(w: Float32Array, x: Float32Array, m: number, n: number, k: number, threads = 1): Float32Array {
  const y = new Float32Array(m * n).fill(Number.NaN);
  wasmMatmulDequant({ m, n, k, x, weight: { format: "f32x8", data: packed(w, n, k) }, y, threads });
  return y;
}

function expectClose(w: Float32Array, x: Float32Array, m: number, n: number, k: number, y: Float32Array) {
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let mass = 0;
      for (let q = 0; q < k; q++) {
        const p = x[i * k + q]! * w[j * k + q]!;
        s += p;
        mass += Math.abs(p);
      }
      const got = y[i * n + j]!;
      const tol = SUM_ULPS_PER_TERM * (k + 2) * mass;
      if (!(Math.abs(got - s) <= tol))
        expect.fail(`m=${m} n=${n} k=${k}: y[${i}, ${j}] = ${got}, want ${s} (tol ${tol})`);
    }
}

const randomW = (n: number, k: number, rng: Rng) => Float32Array.from({ length: n * k }, () => rng.normal());

describe("f32x8 layout (f32x8.ts)", () => {
  it("packs every W[j, q] to a distinct index inside the layout, zero padding elsewhere, and unpacks exactly", () => {
    const rng = new Rng(21);
    for (const [n, k] of [
      [1, 1],
      [7, 3],
      [8, 4],
      [65, 257],
      [130, 517],
    ] as const) {
      const w = randomW(n, k, rng);
      const data = new Float32Array(f32x8Floats(n, k)).fill(Number.NaN);
      packF32x8(w, n, k, data);
      const seen = new Set<number>();
      for (let j = 0; j < n; j++)
        for (let q = 0; q < k; q++) {
          const at = f32x8Index(n, k, j, q);
          expect(at).toBeLessThan(data.length);
          seen.add(at);
          if (data[at] !== w[j * k + q]) expect.fail(`[${n}, ${k}] W[${j}, ${q}] at ${at}: ${data[at]}`);
        }
      expect(seen.size).toBe(n * k);
      for (let t = 0; t < data.length; t++) if (!seen.has(t)) expect(data[t]).toBe(0);
      const back = new Float32Array(n * k);
      unpackF32x8Rows(data, n, k, 0, n, back);
      expect(back).toEqual(w);
    }
  });

  it("the JS GEMV over the layout (gemvF32x8Js) matches the f64 sum, at an offset into x and y", () => {
    const rng = new Rng(26);
    const [n, k] = [70, 261];
    const w = randomW(n, k, rng);
    const data = new Float32Array(f32x8Floats(n, k));
    packF32x8(w, n, k, data);
    const x = Float32Array.from({ length: k + 3 }, () => rng.normal());
    const y = new Float32Array(n + 2).fill(Number.NaN);
    gemvF32x8Js(data, n, k, x, 3, y, 2);
    expectClose(w, x.subarray(3), 1, n, k, y.subarray(2));
    expect(y[0]).toBeNaN();
  });
});

describe("f32x8 GEMV (gemv-f32x8.ts) vs f64 over the row-major W", () => {
  it("odd shapes across tile, block and segment edges, m = 1..3", () => {
    const rng = new Rng(22);
    for (const n of [1, 5, 8, 9, F32X8_BLOCK_ROWS, F32X8_BLOCK_ROWS + 3, 2 * F32X8_BLOCK_ROWS + 13]) {
      for (const k of [1, 3, 4, 7, F32X8_SEGMENT, F32X8_SEGMENT + 1, 2 * F32X8_SEGMENT + 6]) {
        for (const m of [1, 2, 3]) {
          const w = randomW(n, k, rng);
          const x = Float32Array.from({ length: m * k }, () => rng.normal());
          expectClose(w, x, m, n, k, run(w, x, m, n, k));
        }
      }
    }
  });

  it("x's padding lanes are zeroed: NaN past k, in the caller's buffer or left in the workspace, never reaches y", () => {
    const rng = new Rng(23);
    const [n, k] = [9, 5]; // k pads to 8
    const w = randomW(n, k, rng);
    // a call with k = 8 and x all NaN first leaves NaN in the workspace lanes the next x pads (x is
    // the workspace's first block, at the same address in both calls)
    run(randomW(n, 8, rng), new Float32Array(8).fill(Number.NaN), 1, n, 8);
    const x = new Float32Array(k + 3).fill(Number.NaN);
    for (let q = 0; q < k; q++) x[q] = rng.normal();
    expectClose(w, x, 1, n, k, run(w, x, 1, n, k));
  });

  it("a decode-sized product splits over 2 threads and gives 1 thread's y bit for bit", () => {
    const rng = new Rng(24);
    const [n, k] = [1031, 1029]; // 17 blocks, the last one short; 5 segments, the last 5 columns wide
    expect(gemvThreads(2, n * k, n)).toBe(2);
    const w = randomW(n, k, rng);
    const x = Float32Array.from({ length: k }, () => rng.normal());
    const y2 = run(w, x, 1, n, k, 2);
    expectClose(w, x, 1, n, k, y2);
    expect(y2).toEqual(run(w, x, 1, n, k, 1));
  });

  it("decodes through wasmDequantRows exactly; too few bytes is a ShapeError; per-row decode says why not", () => {
    const rng = new Rng(25);
    const [n, k] = [70, 261];
    const w = randomW(n, k, rng);
    const weight = { format: "f32x8" as const, data: packed(w, n, k) };
    const out = new Float32Array(n * k);
    wasmDequantRows(weight, n, k, out);
    expect(out).toEqual(w);
    const short = { format: "f32x8" as const, data: weight.data.subarray(0, n * k * 4) };
    expect(() => wasmDequantRows(short, n, k, out)).toThrow(ShapeError);
    expect(() => dequantRowNaive("f32x8", weight.data, 0, k)).toThrow(ValueError);
  });
});
