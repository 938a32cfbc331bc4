/**
 * Choosing the WASM kernels flavor: names, the TRADEOFFS_WASM_FLAVOR default, the switching rules of
 * the shared runtime, and the relaxed build's GEMM (relaxed_madd) and nibble GEMV (relaxed_swizzle)
 * against the simd build's. Not here: each kernel's own oracle tests (matmul.test.ts, gemv-*.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useWasmFlavor, WASM_FLAVORS } from "../../test/wasm-flavors.js";
import type { DequantWeight } from "../backend.js";
import { ConfigError } from "../errors.js";
import { matmulArgs, matmulNaive } from "../kernels/matmul.js";
import { Rng } from "../rng.js";
import { dequantRowNaive, nibbleRoundingBound, wasmMatmulDequant } from "./dequant.js";
import { parseWasmFlavor, wasmFlavor } from "./flavor.js";
import { wasmMatmul } from "./matmul.js";
import { disposeWasm, setWasmFlavor, WasmRuntime, wasmRuntime } from "./runtime.js";

/**
 * Relaxed vs simd results of one dot product of length k, relative to Σ|a·b|: a fused multiply-add
 * skips the product's rounding, so each of the k steps may differ by one f32 rounding (2^-24 of its
 * magnitude) plus the accumulated sums' own; 2k of them bounds both.
 */
const flavorTol = (k: number) => 2 * k * 2 ** -24;

function randomMatrix(rng: Rng, n: number): Float32Array {
  return new Float32Array(n).map(() => rng.uniform() * 2 - 1);
}

/**
 * In a describe whose tests choose flavors themselves: start from the built-in default (even when the
 * suite runs under TRADEOFFS_WASM_FLAVOR=relaxed) and go back to it after each.
 */
function resetAfterEach(): void {
  beforeEach(() => {
    vi.stubEnv("TRADEOFFS_WASM_FLAVOR", "");
    disposeWasm();
    setWasmFlavor(undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    disposeWasm();
    setWasmFlavor(undefined);
  });
}

describe("flavor names", () => {
  resetAfterEach();

  it("lists simd (the default) and relaxed", () => {
    expect(WASM_FLAVORS).toEqual(["simd", "relaxed"]);
    expect(wasmFlavor()).toBe("simd");
    expect(wasmRuntime().flavor).toBe("simd");
  });

  it("rejects an unknown name with a ConfigError naming it and the valid ones", () => {
    expect(() => setWasmFlavor("fma" as never)).toThrow(ConfigError);
    expect(() => setWasmFlavor("fma" as never)).toThrow(
      /setWasmFlavor 'fma' is not a WASM flavor.*simd, relaxed/,
    );
    expect(() => parseWasmFlavor("SIMD", "--flavor")).toThrow(/--flavor 'SIMD'/);
    expect(parseWasmFlavor("relaxed")).toBe("relaxed");
    expect(wasmFlavor()).toBe("simd"); // a failed call changes nothing
  });

  it("TRADEOFFS_WASM_FLAVOR picks the default; setWasmFlavor overrides it; a bad value fails at first use", () => {
    vi.stubEnv("TRADEOFFS_WASM_FLAVOR", "relaxed");
    expect(wasmFlavor()).toBe("relaxed");
    expect(wasmRuntime().flavor).toBe("relaxed");
    setWasmFlavor("simd");
    expect(wasmRuntime().flavor).toBe("simd");
    disposeWasm();
    setWasmFlavor(undefined); // the variable decides again
    vi.stubEnv("TRADEOFFS_WASM_FLAVOR", "fast");
    expect(() => wasmRuntime()).toThrow(ConfigError);
    expect(() => wasmRuntime()).toThrow(/TRADEOFFS_WASM_FLAVOR 'fast' is not a WASM flavor.*simd, relaxed/);
    expect(() => setWasmFlavor(undefined)).toThrow(/TRADEOFFS_WASM_FLAVOR 'fast'/);
    setWasmFlavor("relaxed");
    expect(wasmRuntime().flavor).toBe("relaxed");
  });
});

describe("switching the flavor of the shared runtime", () => {
  resetAfterEach();

  it("disposes a runtime that holds no resident blocks and starts the new flavor on next use", () => {
    const before = wasmRuntime();
    setWasmFlavor("simd"); // same flavor: keeps the runtime
    expect(wasmRuntime()).toBe(before);
    setWasmFlavor("relaxed");
    expect(before.disposed).toBe(true);
    const after = wasmRuntime();
    expect(after).not.toBe(before);
    expect(after.flavor).toBe("relaxed");
  });

  it("refuses while resident blocks live, naming disposeWasm(); then switches once they are freed", () => {
    const rt = wasmRuntime();
    const at = rt.heap.alloc(4096);
    expect(() => setWasmFlavor("relaxed")).toThrow(ConfigError);
    expect(() => setWasmFlavor("relaxed")).toThrow(
      /from 'simd' to 'relaxed'.*1 resident block.*disposeWasm\(\)/,
    );
    expect(rt.disposed).toBe(false);
    expect(wasmFlavor()).toBe("simd");
    expect(wasmRuntime()).toBe(rt);
    rt.heap.free(at);
    setWasmFlavor("relaxed");
    expect(rt.disposed).toBe(true);
    expect(wasmRuntime().flavor).toBe("relaxed");
  });
});

describe("the relaxed build against the simd build", () => {
  useWasmFlavor("relaxed");

  it("GEMM (relaxed_madd): within a named tolerance of simd, and fused where simd rounds twice", () => {
    const simd = new WasmRuntime("simd");
    try {
      expect(wasmRuntime().flavor).toBe("relaxed");
      const rng = new Rng(15);
      const [m, n, k] = [37, 45, 131];
      const a = randomMatrix(rng, m * k);
      const b = randomMatrix(rng, k * n);
      const got = new Float32Array(m * n);
      const want = new Float32Array(m * n);
      wasmMatmul(wasmRuntime(), matmulArgs(m, n, k, a, b, got), 1);
      wasmMatmul(simd, matmulArgs(m, n, k, a, b, want), 1);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let mag = 0;
          for (let q = 0; q < k; q++) mag += Math.abs(a[i * k + q]! * b[q * n + j]!);
          expect(Math.abs(got[i * n + j]! - want[i * n + j]!), `C[${i}, ${j}]`).toBeLessThanOrEqual(
            flavorTol(k) * mag,
          );
        }
      }
      // -(1+2^-11)·1 + p·p with p = 1+2^-12: p·p = 1+2^-11+2^-24 rounds (ties to even) to 1+2^-11,
      // so mul+add gives 0, a fused multiply-add 2^-24. V8 lowers relaxed_madd to FMA on x64 with FMA3
      // and on arm64. A 4×8 product runs the blocked micro-kernel (m ≤ 2 takes a scalar path).
      const p = 1 + 2 ** -12;
      const q = -(1 + 2 ** -11);
      const a2 = Float32Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? q : p));
      const b2 = Float32Array.from({ length: 16 }, (_, i) => (i < 8 ? 1 : p));
      const fused = new Float32Array(32);
      const split = new Float32Array(32);
      wasmMatmul(wasmRuntime(), matmulArgs(4, 8, 2, a2, b2, fused), 1);
      wasmMatmul(simd, matmulArgs(4, 8, 2, a2, b2, split), 1);
      expect(new Set(split)).toEqual(new Set([0]));
      expect(new Set(fused)).toEqual(new Set([2 ** -24]));
    } finally {
      simd.dispose();
    }
  });

  it("nibble GEMV (8-bit x codes on relaxed): within both flavors' rounding bounds of simd, 1 and 2 threads", () => {
    const simd = new WasmRuntime("simd");
    try {
      const rng = new Rng(16);
      const [m, n, k, group] = [1, 2050, 1024, 64];
      const G = k / group;
      const weight: DequantWeight = {
        format: "nibble",
        data: new Uint8Array((n * k) / 2).map(() => rng.int(256)),
        codebook: Float32Array.from({ length: 16 }, (_, c) => c - 8),
        group,
        scales: new Float32Array(n * G).map(() => rng.uniform()),
      };
      const x = randomMatrix(rng, m * k);
      const want = new Float32Array(m * n);
      wasmMatmulDequant({ m, n, k, x, weight, y: want, threads: 1 }, simd);
      // Each flavor is within its own rounding bound (x codes, codebook) of the dequantised oracle, plus
      // f32 rounding (flavorTol of Σ|x·w|); so the two are within the sum of both of each other.
      const tol = Array.from({ length: n }, (_, j) => {
        const row = dequantRowNaive("nibble", weight.data, j, k, weight as never);
        const scales = weight.format === "nibble" ? weight.scales.subarray(j * G, (j + 1) * G) : [];
        let mag = 0;
        for (let q = 0; q < k; q++) mag += Math.abs(x[q]! * row[q]!);
        const bound = (f: "simd" | "relaxed") =>
          nibbleRoundingBound(
            row,
            weight.format === "nibble" ? weight.codebook : [],
            scales,
            group,
            x,
            0,
            k,
            f,
          );
        return bound("simd") + bound("relaxed") + 2 * flavorTol(k) * mag;
      });
      for (const threads of [1, 2]) {
        const got = new Float32Array(m * n);
        wasmMatmulDequant({ m, n, k, x, weight, y: got, threads });
        for (let j = 0; j < n; j++) {
          expect(Math.abs(got[j]! - want[j]!), `y[${j}] on ${threads} thread(s)`).toBeLessThanOrEqual(
            tol[j]!,
          );
        }
      }
      expect(wasmRuntime().flavor).toBe("relaxed");
    } finally {
      simd.dispose();
    }
  });
});

describe.each(WASM_FLAVORS)("useWasmFlavor (%s)", (flavor) => {
  useWasmFlavor(flavor);

  it("runs the block's tests on that flavor, and the GEMM agrees with the JS reference", () => {
    expect(wasmFlavor()).toBe(flavor);
    expect(wasmRuntime().flavor).toBe(flavor);
    const rng = new Rng(17);
    const [m, n, k] = [9, 20, 70];
    const a = randomMatrix(rng, m * k);
    const b = randomMatrix(rng, k * n);
    const got = new Float32Array(m * n);
    const want = new Float32Array(m * n);
    wasmMatmul(wasmRuntime(), matmulArgs(m, n, k, a, b, got), 1);
    matmulNaive(matmulArgs(m, n, k, a, b, want));
    for (let i = 0; i < m * n; i++)
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(flavorTol(k) * k);
  });
});
