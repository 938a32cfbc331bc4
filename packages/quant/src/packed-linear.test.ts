/**
 * Packed matmul against its oracle x·dequantize(W)ᵀ on every path (fused GEMV, word and byte INT8
 * kernels, several decoded tiles), its gradient against the f32 matmul's, frozen weights, and the
 * ledger's proof that no full f32 copy of W is ever made.
 */
import {
  backward,
  DEQUANT_TILE_ELEMENTS,
  disposeWasm,
  getLedger,
  matmul,
  mul,
  noGrad,
  Rng,
  randn,
  scope,
  sum,
  type Tensor,
  wasmAvailable,
  wasmBackend,
  wasmFlavor,
  wasmRuntime,
} from "@tradeoffs/core-tensor";
import { expectClose, expectNoLeak } from "@tradeoffs/strategy-testkit";
import { afterAll, describe, expect, it } from "vitest";
import { fp32x8Format } from "./fp32x8.js";
import { bf16Format, fp16Format } from "./half.js";
import { int4Format } from "./int4.js";
import { int8Format } from "./int8.js";
import { nf4Format } from "./nf4.js";
import type { WeightFormat } from "./packed.js";
import { GEMV_MAX_ROWS, PackedLinear, TILE_ELEMENTS, tileRows } from "./packed-linear.js";
import { q4_0Format } from "./q4-0.js";
import { q8_0Format } from "./q8-0.js";

/**
 * fp32 tolerance for sums of up to a few thousand products of O(1) terms computed in different
 * orders (the oracle is the backend GEMM on the decoded weight).
 */
const FP32_MATMUL_TOL = { atol: 2e-5, rtol: 1e-5 };

const FORMATS: WeightFormat[] = [
  fp32x8Format,
  fp16Format,
  bf16Format,
  int8Format(),
  int8Format({ group: 32 }),
  int8Format({ group: 6 }),
  int4Format(),
  nf4Format(),
  nf4Format({ dq: false, block: 32 }),
  q8_0Format,
  q4_0Format,
];

/** x [..., K] · dequantize(W)ᵀ with the core f32 matmul (the oracle). */
function oracle(layer: PackedLinear, x: Tensor): Tensor {
  return matmul(x, layer.dequantize(), { transB: true });
}

describe("packed apply equals x·dequantize(W)ᵀ", () => {
  // [rows, cols, M]: rows not a multiple of 4 (GEMV tails), cols 96 (word path) and 2048 (several
  // tiles of 32 rows: 70 = 32 + 32 + 6), M = 1 and GEMV_MAX_ROWS (fused) and 9 (decoded tiles).
  const shapes: [number, number, number][] = [
    [7, 96, 1],
    [7, 96, GEMV_MAX_ROWS],
    [13, 96, 9],
    [70, 2048, 1],
    [70, 2048, 9],
  ];
  for (const f of FORMATS) {
    for (const [rows, cols, M] of shapes) {
      it(`${f.name}: W [${rows}, ${cols}], x [${M}, ${cols}]`, () => {
        expectNoLeak(() =>
          scope(() => {
            const rng = new Rng(rows * cols + M);
            const layer = new PackedLinear(f, randn([rows, cols], rng, { std: 0.05 }), "weights/test");
            const x = randn([M, cols], rng);
            expectClose(layer.apply(x), oracle(layer, x), FP32_MATMUL_TOL, `${f.name} apply`);
            layer.dispose();
          }),
        );
      });
    }
  }
  it("INT8's byte kernel (width not a multiple of 4) agrees too", () => {
    scope(() => {
      const rng = new Rng(9);
      for (const f of [int8Format(), int8Format({ group: 10 })]) {
        const layer = new PackedLinear(f, randn([5, 38], rng), "weights/test");
        const x = randn([1, 38], rng);
        expectClose(layer.apply(x), oracle(layer, x), FP32_MATMUL_TOL, f.name);
        layer.dispose();
      }
    });
  });
  it("keeps leading axes: x [2, 3, K] → [2, 3, N]", () => {
    scope(() => {
      const rng = new Rng(4);
      const layer = new PackedLinear(nf4Format(), randn([8, 64], rng), "weights/test");
      const x = randn([2, 3, 64], rng);
      const y = layer.apply(x);
      expect(y.shape).toEqual([2, 3, 8]);
      expectClose(y, oracle(layer, x), FP32_MATMUL_TOL);
      layer.dispose();
    });
  });
});

describe("gradient in x: dX = dY·W, decoded on the fly", () => {
  for (const f of [int8Format(), nf4Format(), q4_0Format, bf16Format]) {
    it(`${f.name}: matches the f32 matmul's gradient; the packed weight stays frozen`, () => {
      expectNoLeak(() =>
        scope(() => {
          const rng = new Rng(11);
          const layer = new PackedLinear(f, randn([40, 64], rng, { std: 0.1 }), "weights/test");
          expect(layer.parameters()).toEqual([]);
          const r = randn([6, 40], rng);
          const x1 = randn([6, 64], rng, { requiresGrad: true });
          backward(sum(mul(layer.apply(x1), r)));
          const x2 = randn([6, 64], new Rng(0));
          x2.data.set(x1.data);
          x2.requiresGrad = true;
          backward(sum(mul(oracle(layer, x2), r)));
          expectClose(x1.grad!, x2.grad!, FP32_MATMUL_TOL, "dX");
          layer.dispose();
        }),
      );
    });
  }
});

describe.skipIf(!wasmAvailable())("gradient in x on WASM: the backend decodes the tiles", () => {
  afterAll(() => disposeWasm());
  for (const f of [int8Format({ group: 6 }), nf4Format(), q4_0Format, bf16Format]) {
    it(`${f.name}: dX = dY·W against the f32 matmul's, M = 6 and 70, tiles decoded in the backend`, () => {
      const backend = wasmBackend(2);
      let tiled = 0;
      const counting = {
        ...backend,
        matmulDequantTiles: (a: Parameters<NonNullable<typeof backend.matmulDequantTiles>>[0]) => {
          const done = backend.matmulDequantTiles!(a);
          if (done && a.mode === "inputGrad") tiled++;
          return done;
        },
      };
      expectNoLeak(() =>
        scope(() => {
          const rng = new Rng(12);
          const layer = new PackedLinear(f, randn([40, 96], rng, { std: 0.1 }), "weights/test", {
            backend: counting,
          });
          for (const M of [6, 70]) {
            const r = randn([M, 40], rng);
            const x1 = randn([M, 96], rng, { requiresGrad: true });
            backward(sum(mul(layer.apply(x1), r)));
            const x2 = randn([M, 96], new Rng(0));
            x2.data.set(x1.data);
            x2.requiresGrad = true;
            backward(sum(mul(oracle(layer, x2), r)));
            expectClose(x1.grad!, x2.grad!, FP32_MATMUL_TOL, `dX M=${M}`);
          }
          expect(tiled).toBe(2);
          layer.dispose();
        }),
      );
    });
  }
});

describe("no full f32 copy of W (the ledger's tmp peak)", () => {
  for (const f of [int8Format(), nf4Format(), q4_0Format]) {
    it(`${f.name}: apply and backward stay within one decoded tile`, () => {
      expectNoLeak(() =>
        scope(() => {
          const rows = 512;
          const cols = 1024;
          const M = 8;
          const rng = new Rng(2);
          const layer = new PackedLinear(f, randn([rows, cols], rng), "weights/test");
          const x = randn([M, cols], rng, { requiresGrad: true });
          const T = tileRows(rows, cols);
          const tileBytes = 4 * (T * cols + M * T);
          const ledger = getLedger();
          const fwd = ledger.measure(() => layer.apply(x));
          const y = fwd.result;
          // output [M, rows] + one decoded tile + one [M, T] panel; a full copy would be 2 MiB
          expect(T * cols).toBeLessThanOrEqual(TILE_ELEMENTS);
          expect(fwd.peakAbove.tmp ?? 0).toBeLessThanOrEqual(4 * M * rows + tileBytes);
          expect(fwd.peakAbove.tmp ?? 0).toBeLessThan((4 * rows * cols) / 4);
          const bwd = ledger.measure(() => backward(sum(y)));
          expect(bwd.peakAbove.tmp ?? 0).toBeLessThan((4 * rows * cols) / 4);
          const dec = ledger.measure(() => noGrad(() => layer.apply(randn([1, cols], rng))));
          expect(dec.peakAbove.tmp ?? 0).toBeLessThanOrEqual(4 * (cols + rows)); // GEMV: x and y only
          layer.dispose();
        }),
      );
    });
  }
});

describe.skipIf(!wasmAvailable())(
  "no full f32 copy of W on WASM either (tiles decoded in its memory)",
  () => {
    afterAll(() => disposeWasm());
    for (const f of [int8Format(), nf4Format(), q4_0Format]) {
      it(`${f.name}: a prefill and its backward stay within one WASM tile beside x, y and packing scratch`, () => {
        const backend = wasmBackend(2);
        expectNoLeak(() =>
          scope(() => {
            const [rows, cols, M] = [2048, 1024, 80]; // W: 8 MiB in f32, eight WASM tiles
            const rng = new Rng(3);
            const layer = new PackedLinear(f, randn([rows, cols], rng), "weights/test", { backend });
            const x = randn([M, cols], rng, { requiresGrad: true });
            const ledger = getLedger();
            const fwd = ledger.measure(() => layer.apply(x));
            const tile = 4 * (DEQUANT_TILE_ELEMENTS + 16);
            const scratch = 2 * wasmRuntime().gemmScratchBytes;
            const dqScales = 4 * rows * (cols / 32); // NF4's double-quantised scales, decoded per call
            const slack = 64 * 8; // the arena's 64-byte alignment of each block
            // y [M, rows] itself, and in WASM memory x, y, one tile, the packing scratch (and scales)
            const bound = 4 * M * rows + 4 * (M * cols + M * rows) + tile + scratch + dqScales + slack;
            expect(fwd.peakAbove.tmp ?? 0).toBeLessThanOrEqual(bound);
            expect(bound).toBeLessThan(4 * rows * cols); // a full f32 copy of W alone would exceed it
            const bwd = ledger.measure(() => backward(sum(fwd.result)));
            // gx [M, cols] and g [M, rows] beside the same workspace
            expect(bwd.peakAbove.tmp ?? 0).toBeLessThanOrEqual(bound + 4 * M * cols);
            layer.dispose();
          }),
        );
      });
    }
  },
);

/**
 * The backend's dequantising kernel (WASM) sums k products in f32 in SIMD order; the oracle is the
 * f32 GEMM on the decoded weight: the same bound as the JS paths.
 */
const BACKEND_GEMV_TOL = FP32_MATMUL_TOL;
/**
 * The WASM Q8_0 GEMV kernel also rounds x to 16-bit codes per 32-block (core-tensor's
 * `x16RoundingBound`: ≤ Σ|w|·absmax(x_block)/65534 per output; here |w| ≲ 0.4, |x| ≲ 4.5, k ≤ 160
 * gives ≤ 4.4e-3 worst case, ~1e-4 typical with random signs).
 */
const INT16_GEMV_TOL = { atol: 5e-4, rtol: 1e-4 };
/**
 * The `simd` build's Q4_0 kernel and fused INT4 kernel round x to codes within ±1927 per 32-block
 * (INT4: per x-block of up to 128 inputs) (core-tensor's `xCodeLevels` / `nibbleXCodeLevels`: ≤
 * Σ|w|·absmax(x_block)/3854 per output; each x error uniform in ±absmax/3854 ≈ ±7e-4 against
 * |w| ~ 0.08 over k ≤ 160 random signs: ~4e-4 typical): 4e-3, about 10× typical, still far below the
 * ~0.05 error of one wrong code (a step of d ≈ 0.05 times |x| ~ 1). INT4's integer codebook is exact.
 */
const FLIP_X_GEMV_TOL = { atol: 4e-3, rtol: 1e-4 };
/**
 * The relaxed-SIMD build's Q8_0 / Q4_0 (and fused 4-bit) kernels round x to 8-bit codes per block
 * instead (the same bound with 127 levels: ≤ Σ|w|·absmax(x_block)/254 per output, ≤ 1.1 worst case
 * here; each x error uniform in ±absmax/254 ≈ ±0.01 against |w| ~ 0.08 over k ≤ 160 random signs:
 * ~6e-3 typical): 3e-2, about 5× typical, still far below the O(1) error of a wrong code or scale.
 */
const INT8_X_GEMV_TOL = { atol: 3e-2, rtol: 1e-4 };
/**
 * The fused 4-bit kernel also rounds NF4's codebook span onto 0..127 (`codebookRoundingBound`: ≤
 * Σ_q |x_q·scale_q|·2/254 per output; here k = 128, |x| ~ N(0, 1), block absmax of N(0, 0.1²) ≈ 0.25:
 * ≤ 0.2 worst case; the 16 per-code errors (≤ 0.0079, RMS ~0.0045) over random codes give ~1e-2
 * typical), and for NF4 both builds round x to 8-bit codes (`INT8_X_GEMV_TOL`'s ~6e-3 typical):
 * 3e-2, about 2× the two combined (~1.4e-2), still far below the O(1) error of a wrong code or scale.
 */
const NF4_FUSED_GEMV_TOL = { atol: 3e-2, rtol: 1e-4 };

describe.skipIf(!wasmAvailable())("backendGemv: the WASM matmulDequant equals x·dequantize(W)ᵀ", () => {
  afterAll(() => disposeWasm());
  // Formats with a kernel layout; odd rows everywhere, odd input widths and groups that do not divide
  // them for the 4-bit codebook formats (the GGUF formats need whole blocks of 32).
  const cases: [WeightFormat, number, number][] = [
    [q8_0Format, 13, 96],
    [q4_0Format, 13, 160],
    [int4Format(), 11, 37],
    [int4Format({ group: 0 }), 5, 67],
    [nf4Format(), 9, 131],
    [nf4Format({ dq: false, block: 32 }), 7, 45],
    [int8Format(), 9, 67],
    [int8Format({ group: 6 }), 10, 45],
    [int4Format({ group: 32 }), 6, 64], // the fused 4-bit kernel (K and group multiples of 32)
    [nf4Format(), 5, 128],
    [fp16Format, 7, 45], // the 16-bit GEMV: any K
    [bf16Format, 6, 67],
    [fp32x8Format, 71, 261], // the tiled f32 GEMV: past one block of 64 rows and one segment of 256
  ];
  for (const [format, rows, cols] of cases) {
    for (const threads of [1, 2]) {
      it(`${format.name} [${rows}, ${cols}], M = 1, ${GEMV_MAX_ROWS}, 9, 70, ${threads} thread(s)`, () => {
        expect(format.kernelWeight).toBeDefined();
        const backend = wasmBackend(threads);
        expectNoLeak(() =>
          scope(() => {
            const rng = new Rng(rows * cols);
            const w = randn([rows, cols], rng, { std: 0.1 });
            const layer = new PackedLinear(format, w, "weights/test", { backend, backendGemv: true });
            let called = 0;
            let tiled = 0;
            const counting = new PackedLinear(format, w, "weights/test", {
              backend: {
                ...backend,
                matmulDequant: (a) => {
                  called++;
                  backend.matmulDequant!(a);
                },
                matmulDequantTiles: (a) => {
                  const done = backend.matmulDequantTiles!(a);
                  if (done) tiled++;
                  return done;
                },
              },
              backendGemv: true,
            });
            const jsGemv = new PackedLinear(format, w, "weights/test", {
              backend: counting.options.backend,
              backendGemv: false,
            });
            // Default (resident weights): the fused kernels, which beat the JS GEMV (bench decode).
            const auto = new PackedLinear(format, w, "weights/test", { backend: counting.options.backend });
            expect(auto.resident).toBe(true);
            // Past KERNEL_MAX_ROWS FP32x8 takes the kernel 64 rows of x at a time (M = 70: two
            // chunks); every other layout decodes tiles in the backend.
            const chunks = format === fp32x8Format;
            const kw = format.kernelWeight!(layer.packed);
            const rowDecoded = kw.weight.format !== "f32x8";
            const Ms = [1, GEMV_MAX_ROWS, 9, 70];
            for (const M of Ms) {
              const x = randn([M, cols], rng);
              const fusedNibble = cols % 32 === 0 && /^(INT4|NF4)/.test(format.name);
              const int16 = format.name === "Q8_0" || format.name === "Q4_0" || fusedNibble;
              const tol =
                fusedNibble && format.name.startsWith("NF4")
                  ? NF4_FUSED_GEMV_TOL
                  : int16
                    ? wasmFlavor() === "relaxed"
                      ? INT8_X_GEMV_TOL
                      : format.name === "Q4_0" || fusedNibble
                        ? FLIP_X_GEMV_TOL
                        : INT16_GEMV_TOL
                    : BACKEND_GEMV_TOL;
              expectClose(layer.apply(x), oracle(layer, x), tol, `${format.name} M=${M}`);
              counting.apply(x);
              jsGemv.apply(x); // backendGemv off: quant's JS GEMV, the kernel is not called
              expectClose(auto.apply(x), oracle(layer, x), tol, `${format.name} auto M=${M}`);
            }
            // Default: the kernel unless a 4-bit codebook layout has K or its group off multiples of 32.
            const fused = kw.weight.format !== "nibble" || (cols % 32 === 0 && kw.weight.group % 32 === 0);
            kw.release();
            // counting: M ≤ 9; auto: M = 9 (a short prefill) always, M ≤ GEMV_MAX_ROWS when fused;
            // M = 70 by counting and by auto alike: FP32x8 in two kernel calls, else one tiled call
            // where the backend decodes the layout (jsGemv, with backendGemv off, takes neither).
            expect(called).toBe(3 + (fused ? 3 : 1) + (chunks ? 2 + 2 : 0));
            expect(tiled).toBe(rowDecoded ? 2 : 0);
            auto.dispose();
            jsGemv.dispose();
            layer.dispose();
            counting.dispose();
          }),
        );
      });
    }
  }
});
