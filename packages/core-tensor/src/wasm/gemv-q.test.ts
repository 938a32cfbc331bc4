/**
 * The Q8_0, Q4_0 and INT8 GEMV kernels (assembly/gemv.ts; the relaxed build's gemv-dot8.ts) against
 * their dequantise-then-FP32 oracle (`dequantRowNaive`, summed in f64) on both WASM flavors, on odd
 * shapes: m = 1..4, n not a multiple of 4 (INT8's 4-row tile and its 1–3 row remainder), 1 and 2
 * threads, INT8 groups that end short and INT8's f32 path (k or group not a multiple of 32). Not here:
 * the row decoders and other formats (dequant.test.ts).
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { useWasmFlavor, WASM_FLAVORS } from "../../test/wasm-flavors.js";
import type { DequantWeight } from "../backend.js";
import { f32ToF16 } from "../dtype.js";
import { getLedger, MemoryLedger } from "../ledger.js";
import { Rng } from "../rng.js";
import {
  dequantRowBytes,
  dequantRowNaive,
  wasmMatmulDequant,
  x16RoundingBound,
  xCodeLevels,
} from "./dequant.js";
import { GEMV_MAX_M, gemvThreads } from "./matmul.js";
import { allocateResident } from "./resident.js";
import { disposeWasm, wasmRuntime } from "./runtime.js";

afterAll(() => disposeWasm());

/** f32 unit roundoff. */
const U = 2 ** -24;

/**
 * The kernels' error against the exact sum y = Σ_c w_c·x_c, in two parts.
 * (1) Rounding x to codes per 32-block (integer paths: Q8_0, Q4_0, INT8 with k and group multiples of
 *     32): x ≈ s·q, s = absmax/L with L = 32767 (simd: 16-bit codes) or 127 (relaxed: 8-bit codes,
 *     `xCodeLevels`); |x_c − s·q_c| ≤ s/2, so at most Σ_c |w_c|·s_block(c)/2 = `x16RoundingBound`.
 * (2) f32 arithmetic. Integer paths: each block's code dot is an exact i32 (simd: |Σ| ≤ 32·128·32767 <
 *     2^31; relaxed: the i16 pair sums ≤ 2·128·127 < 2^15 and |Σ| ≤ 32·128·127 < 2^24, so also exact
 *     in f32); per block the conversion to f32, d·sx (or sx) and the product round at most 3 times;
 *     the f32x4 accumulators take ≤ nb adds, the group scale 2 more roundings per group, the final lane
 *     sum 2: first order, at most (3 + nb + 2G + 2)·u·Σ_c |w_c·x̂_c| with x̂ = s·q, |x̂_c| ≤ |x_c| + s/2.
 *     f32 path (INT8, k or group not a multiple of 32): products exact in f32 up to one rounding,
 *     two f32x4 sums of k/8 adds each, a lane sum, the scalar tail, ×scale and +acc per group: at most
 *     (k + 3G + 8)·u·Σ_c |w_c·x_c|.
 * Both parts take Σ|w|·|x|, not |y|: cancellation cannot hide an error, and the bound stays far below
 * any wrong-code error (a swapped nibble or a mis-scaled block moves y by a whole |w_c·x_c|).
 */
function gemvQBound(
  format: "q8_0" | "q4_0" | "i8",
  row: Float32Array,
  x: Float32Array,
  xOff: number,
  k: number,
  group: number,
  levels: number,
): number {
  const G = format === "i8" ? Math.ceil(k / group) : 1;
  const integer = format !== "i8" || (k % 32 === 0 && group % 32 === 0);
  let abs = 0;
  if (!integer) {
    for (let c = 0; c < k; c++) abs += Math.abs(row[c]! * x[xOff + c]!);
    return (k + 3 * G + 8) * U * abs;
  }
  for (let b = 0; b < k; b += 32) {
    let amax = 0;
    for (let c = b; c < b + 32; c++) amax = Math.max(amax, Math.abs(x[xOff + c]!));
    for (let c = b; c < b + 32; c++) abs += Math.abs(row[c]!) * (Math.abs(x[xOff + c]!) + amax / levels / 2);
  }
  return x16RoundingBound(row, x, xOff, k, 32, levels) + (k / 32 + 2 * G + 8) * U * abs;
}

/**
 * Random packed W [n, k]: code bytes uniform; GGUF f16 block scales in ±0.1; INT8 scales in [0, 0.01).
 */
function randomWeight(
  format: "q8_0" | "q4_0" | "i8",
  n: number,
  k: number,
  group: number,
  rng: Rng,
): DequantWeight {
  const data = new Uint8Array(n * dequantRowBytes(format, k));
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  if (format === "i8") {
    const scales = new Float32Array(n * Math.ceil(k / group)).map(() => rng.uniform() * 0.01);
    return { format, data, group, scales };
  }
  const bs = format === "q8_0" ? 34 : 18;
  for (let at = 0; at < data.length; at += bs) {
    const h = f32ToF16((rng.uniform() * 2 - 1) * 0.1);
    data[at] = h & 255;
    data[at + 1] = h >> 8;
  }
  return { format, data };
}

/** Every y[i, j] within `gemvQBound` of the f64 oracle; returns the first failure or undefined. */
function firstMiss(weight: DequantWeight, m: number, n: number, k: number, x: Float32Array, y: Float32Array) {
  const format = weight.format as "q8_0" | "q4_0" | "i8";
  const levels = xCodeLevels(wasmRuntime().flavor, format);
  const group = weight.format === "i8" ? weight.group : 32;
  for (let j = 0; j < n; j++) {
    const row = dequantRowNaive(format, weight.data, j, k, weight.format === "i8" ? weight : undefined);
    for (let i = 0; i < m; i++) {
      let want = 0;
      for (let c = 0; c < k; c++) want += x[i * k + c]! * row[c]!;
      const bound = gemvQBound(format, row, x, i * k, k, group, levels);
      if (!(Math.abs(y[i * n + j]! - want) <= bound)) return { i, j, got: y[i * n + j], want, bound };
    }
  }
  return undefined;
}

describe.each(WASM_FLAVORS)("Q8_0 / Q4_0 / INT8 GEMV vs the dequantise-then-FP32 oracle (%s)", (flavor) => {
  useWasmFlavor(flavor);

  it("runs the flavor it names", () => {
    expect(wasmRuntime().flavor).toBe(flavor);
  });

  for (const format of ["q8_0", "q4_0", "i8"] as const) {
    it(`${format}: m = 1..${GEMV_MAX_M}, n = 1..23 (4-row tiles and remainders), one thread (below the split)`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: GEMV_MAX_M }),
          fc.integer({ min: 1, max: 23 }),
          // GGUF: k a multiple of 32; INT8: also odd k (its f32 path)
          // (up to 20 blocks: several groups of 128 or 256, and a short last one)
          format === "i8"
            ? fc.oneof(
                fc.integer({ min: 1, max: 20 }).map((b) => b * 32),
                fc.integer({ min: 1, max: 200 }),
              )
            : fc.integer({ min: 1, max: 8 }).map((b) => b * 32),
          // INT8 groups: multiples of 32 that end short (96 of k = 128), multiples of 128 (read one row
          // per pass, the group's scale per four blocks), one per row (0 → k), and not multiples of 32
          fc.constantFrom(32, 64, 96, 128, 256, 0, 3, 40),
          fc.integer({ min: 1, max: 1 << 30 }),
          (m, n, k, g, seed) => {
            const rng = new Rng(seed);
            const weight = randomWeight(format, n, k, g === 0 ? k : g, rng);
            const x = new Float32Array(m * k).map(() => rng.uniform() * 2 - 1);
            const y = new Float32Array(m * n);
            wasmMatmulDequant({ m, n, k, x, weight, y, threads: 1 });
            const miss = firstMiss(weight, m, n, k, x, y);
            if (miss) throw new Error(`${format} m=${m} n=${n} k=${k} group=${g}: ${JSON.stringify(miss)}`);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it("a decode-sized layer split over 2 threads in blocks: every row, the INT8 tile's remainder, as on one thread", () => {
    const rng = new Rng(11);
    const m = 1;
    const n = 1027; // two shares; the second ends in a 3-row remainder
    const k = 2048; // n·k above the split threshold (GEMV_SPLIT_MIN_WORK)
    expect(gemvThreads(2, m * n * k, n)).toBe(2);
    for (const format of ["q8_0", "q4_0", "i8"] as const) {
      const weight = randomWeight(format, n, k, k, rng);
      const x = new Float32Array(m * k).map(() => rng.uniform() * 2 - 1);
      const y = new Float32Array(m * n);
      wasmMatmulDequant({ m, n, k, x, weight, y, threads: 2 });
      expect(firstMiss(weight, m, n, k, x, y)).toBeUndefined();
      // blocks of rows from the shared counter: each row is computed as on one thread, bit for bit
      const y1 = new Float32Array(m * n);
      wasmMatmulDequant({ m, n, k, x, weight, y: y1, threads: 1 });
      expect(y).toEqual(y1);
    }
  });

  it("resident bytes (the direct path) give the placed bytes' y bit for bit, on 1 and 2 threads", () => {
    const rng = new Rng(12);
    const ledger = new MemoryLedger();
    const [m, n, k] = [2, 1029, 1024]; // n·k above the split threshold: two threads take row blocks
    for (const format of ["q8_0", "q4_0", "i8"] as const) {
      const placed = randomWeight(format, n, k, 64, rng);
      const data = allocateResident(wasmRuntime(), ledger, "weights/test", "u8", placed.data.length)!;
      data.data.set(placed.data);
      let scales: ReturnType<typeof allocateResident>;
      let resident: DequantWeight;
      if (placed.format === "i8") {
        scales = allocateResident(wasmRuntime(), ledger, "weights/test", "f32", placed.scales.length)!;
        scales.data.set(placed.scales);
        resident = { ...placed, data: data.data as Uint8Array, scales: scales.data as Float32Array };
      } else resident = { format, data: data.data as Uint8Array } as DequantWeight;
      expect(wasmRuntime().addressOf(resident.data)).toBeDefined();
      const x = new Float32Array(m * k).map(() => rng.uniform() * 2 - 1);
      const want = new Float32Array(m * n);
      wasmMatmulDequant({ m, n, k, x, weight: placed, y: want, threads: 1 });
      for (const threads of [1, 2]) {
        const y = new Float32Array(m * n);
        wasmMatmulDequant({ m, n, k, x, weight: resident, y, threads });
        expect(y, `${format}, ${threads} thread(s)`).toEqual(want);
      }
      data.release();
      scales?.release();
    }
    expect(ledger.live()).toBe(0);
  });

  it("a resident weight's call layout is reused only for its shape, threads and workspace base", () => {
    // The direct path lays a call out once per weight object and reuses it; a fresh object ({ ...w })
    // is laid out anew. Every call, with new x, must give what the fresh object gives, bit for bit:
    // across m, thread counts and a workspace base moved by another resident block.
    const rng = new Rng(13);
    const ledger = new MemoryLedger();
    const rt = wasmRuntime();
    const [n, k] = [1029, 1024];
    for (const format of ["q8_0", "i8"] as const) {
      const placed = randomWeight(format, n, k, 64, rng);
      const data = allocateResident(rt, ledger, "weights/test", "u8", placed.data.length)!;
      data.data.set(placed.data);
      const scales =
        placed.format === "i8"
          ? allocateResident(rt, ledger, "weights/test", "f32", placed.scales.length)!
          : undefined;
      const resident: DequantWeight =
        placed.format === "i8"
          ? { ...placed, data: data.data as Uint8Array, scales: scales!.data as Float32Array }
          : ({ format, data: data.data as Uint8Array } as DequantWeight);
      if (placed.format === "i8") scales!.data.set(placed.scales);
      // Blocks allocated until the workspace base moves up (freed holes below are filled first).
      const moved: NonNullable<ReturnType<typeof allocateResident>>[] = [];
      for (const [step, [m, threads, move]] of (
        [
          [1, 2, false],
          [1, 2, false],
          [1, 1, false],
          [3, 1, false],
          [1, 2, false],
          [1, 2, true],
          [1, 2, false],
        ] as const
      ).entries()) {
        if (move) {
          const base = rt.scratchBase;
          while (rt.scratchBase === base) {
            const b = allocateResident(rt, ledger, "weights/test", "u8", 1 << 20)!;
            b.data.fill(0xa5);
            moved.push(b);
          }
        }
        const x = new Float32Array(m * k).map(() => rng.uniform() * 2 - 1);
        const y = new Float32Array(m * n);
        const want = new Float32Array(m * n);
        wasmMatmulDequant({ m, n, k, x, weight: resident, y, threads });
        wasmMatmulDequant({ m, n, k, x, weight: { ...resident }, y: want, threads });
        expect(y, `${format}, step ${step}`).toEqual(want);
        expect(firstMiss(placed, m, n, k, x, y), `${format}, step ${step}`).toBeUndefined();
        for (const b of moved)
          expect(
            b.data.every((v) => v === 0xa5),
            "workspace above resident blocks",
          ).toBe(true);
      }
      for (const b of moved) b.release();
      data.release();
      scales?.release();
    }
    expect(ledger.live()).toBe(0);
    expect(getLedger().live()).toBe(0); // no workspace charge left behind
  });

  it("x with a large and a tiny block: the 16-bit codes are scaled per 32-block", () => {
    // x's first block is 1e4, its second 1e-4; W's first block is zero. With one x scale per row the
    // second block would round to 0 codes and y to 0, an error of |y| itself, far above the bound.
    const rng = new Rng(5);
    const k = 64;
    const n = 5;
    for (const format of ["q8_0", "q4_0", "i8"] as const) {
      const weight = randomWeight(format, n, k, 32, rng);
      const rb = dequantRowBytes(format, k);
      for (let j = 0; j < n; j++) {
        if (format === "i8") weight.data.fill(0, j * rb, j * rb + 32);
        else
          weight.data.fill(format === "q8_0" ? 0 : 0x88, j * rb + 2, j * rb + (format === "q8_0" ? 34 : 18));
      }
      const x = Float32Array.from({ length: k }, (_, c) => (c < 32 ? 1e4 : 1e-4) * (rng.uniform() * 2 - 1));
      const y = new Float32Array(n);
      wasmMatmulDequant({ m: 1, n, k, x, weight, y, threads: 1 });
      expect(firstMiss(weight, 1, n, k, x, y)).toBeUndefined();
      expect(y.some((v) => v !== 0)).toBe(true);
    }
  });

  it("a wrong code fails the bound: one code's sign flipped (Q4_0: nibble c → 15 − c) at x's largest input", () => {
    const rng = new Rng(23);
    const [n, k] = [3, 128];
    for (const format of ["q8_0", "q4_0", "i8"] as const) {
      const weight = randomWeight(format, n, k, 32, rng);
      const x = new Float32Array(k).map(() => rng.uniform() * 2 - 1);
      x[37] = 1.5; // block 1, element 5: byte 5 of the block (Q4_0: its high nibble, 16 + 5 = 21 → no)
      const at =
        format === "i8" ? k + 37 : dequantRowBytes(format, k) + (format === "q8_0" ? 34 + 2 + 5 : 18 + 2 + 5);
      weight.data[at] = format === "q4_0" ? (weight.data[at]! & 0xf0) | 0x0f : 127; // row 1: 127 (Q4_0: nibble 15)
      const y = new Float32Array(n);
      wasmMatmulDequant({ m: 1, n, k, x, weight, y, threads: 1 });
      expect(firstMiss(weight, 1, n, k, x, y)).toBeUndefined();
      const wrong = { ...weight, data: weight.data.slice() };
      wrong.data[at] = format === "q4_0" ? weight.data[at]! & 0xf0 : -127 & 255;
      expect(firstMiss(wrong, 1, n, k, x, y)).toMatchObject({ i: 0, j: 1 });
    }
  });

  it("a −128 code (no quantiser here writes one) is exact: x's sign is never moved onto w", () => {
    const rng = new Rng(29);
    const [n, k] = [2, 64];
    for (const format of ["q8_0", "i8"] as const) {
      const weight = randomWeight(format, n, k, 32, rng);
      const x = new Float32Array(k).map(() => rng.uniform() * 2 - 1);
      const rb = dequantRowBytes(format, k);
      for (let c = 0; c < k; c += 3)
        weight.data[rb + (format === "q8_0" ? 34 * (c >> 5) + 2 + (c & 31) : c)] = 0x80;
      const y = new Float32Array(n);
      wasmMatmulDequant({ m: 1, n, k, x, weight, y, threads: 1 });
      expect(firstMiss(weight, 1, n, k, x, y)).toBeUndefined();
    }
  });

  it("GGUF block scales: subnormal halves within the bound; ±Inf / NaN halves make their row non-finite", () => {
    const rng = new Rng(31);
    const [n, k] = [4, 256]; // 8 blocks: two four-block steps
    for (const format of ["q8_0", "q4_0"] as const) {
      const weight = randomWeight(format, n, k, 32, rng);
      const bs = format === "q8_0" ? 34 : 18;
      const rb = dequantRowBytes(format, k);
      const setHalf = (j: number, b: number, h: number) => {
        weight.data[j * rb + b * bs] = h & 255;
        weight.data[j * rb + b * bs + 1] = h >> 8;
      };
      for (let b = 0; b < 8; b++) setHalf(0, b, b % 2 ? 0x8000 | (1 + 97 * b) : 3 + 101 * b); // row 0: subnormal d
      setHalf(1, 5, 0x7c00); // row 1: +Inf in block 5
      setHalf(2, 2, 0xfc00); // row 2: −Inf in block 2
      setHalf(3, 6, 0x7e00); // row 3: NaN in block 6
      const x = new Float32Array(k).map(() => rng.uniform() * 2 - 1);
      const y = new Float32Array(n);
      wasmMatmulDequant({ m: 1, n, k, x, weight, y, threads: 1 });
      const row0 = { ...weight, data: weight.data.slice(0, rb) };
      expect(firstMiss(row0, 1, 1, k, x, y.subarray(0, 1))).toBeUndefined();
      expect(y[0]).not.toBe(0);
      for (const j of [1, 2, 3]) expect(Number.isFinite(y[j]!)).toBe(false);
    }
  });
});
