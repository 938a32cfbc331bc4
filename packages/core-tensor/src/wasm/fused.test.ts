import { afterAll, describe, expect, it } from "vitest";
import * as ew from "../kernels/elementwise.js";
import * as fusedJs from "../kernels/fused.js";
import * as rowsJs from "../kernels/rows.js";
import { getLedger } from "../ledger.js";
import { Rng } from "../rng.js";
import {
  FUSED_MIN_ELEMENTS,
  type FusedKernelName,
  fusedKernels,
  wasmAdamw,
  wasmAdd,
  wasmArgmax,
  wasmExp,
  wasmMaskedSoftmax,
  wasmRmsNorm,
  wasmRope,
  wasmSample,
  wasmSilu,
  wasmSiluMul,
  wasmSoftmax,
} from "./fused.js";
import { allocateResident } from "./resident.js";
import { disposeWasm, wasmRuntime } from "./runtime.js";

afterAll(() => disposeWasm());

/** The SIMD exp (Cephes polynomial, f32) against Math.exp: relative error. */
const EXP_RTOL = 1e-6;
/** f32 SIMD sums (rmsNorm's row sum of squares, softmax's Σe) against the JS f64 loops. */
const ROW_TOL = { atol: 1e-6, rtol: 2e-6 } as const;
/** RoPE: cos/sin rounded to f32 before the rotation (JS rotates in f64). */
const ROPE_TOL = { atol: 2e-6, rtol: 2e-6 } as const;
/** SiLU and SiLU·up: the f32 exp and one f32 division. */
const SILU_TOL = { atol: 1e-7, rtol: 2e-6 } as const;

/** Odd sizes: below, at and across a SIMD width, and a realistic row. */
const SIZES = [1, 3, 4, 5, 7, 8, 9, 31, 33, 191, 192, 257] as const;

function randArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: { atol: number; rtol: number },
): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      expect(g, `element ${i}`).toBe(w);
      continue;
    }
    const excess = Math.abs(g - w) - (tol.atol + tol.rtol * Math.abs(w));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  expect(at, at < 0 ? "" : `element ${at}: got ${got[at]}, want ${want[at]}`).toBe(-1);
}

describe("WASM exp", () => {
  it("matches Math.exp to EXP_RTOL over the f32 range, 0 below it and for −∞", () => {
    const xs: number[] = [0, -0, 1, -1, 0.5, 10, -10, 50, -50, 80, -80, 87, -87, -87.3, -88, -100, -1e30];
    for (let i = 0; i <= 2000; i++) xs.push(-87 + (i * 174) / 2000);
    xs.push(Number.NEGATIVE_INFINITY, Number.NaN);
    const x = Float32Array.from(xs);
    const out = new Float32Array(x.length);
    wasmExp(x, out);
    for (let i = 0; i < x.length; i++) {
      const want = Math.fround(Math.exp(x[i]!));
      if (Number.isNaN(x[i]!)) expect(out[i]).toBeNaN();
      else if (x[i]! < -87.33654475) expect(out[i], `exp(${x[i]})`).toBe(0);
      else expect(Math.abs(out[i]! - want) / want, `exp(${x[i]})`).toBeLessThanOrEqual(EXP_RTOL);
    }
  });
});

describe("WASM step kernels against the JS references", () => {
  it("add, mul and silu, every size", () => {
    const rng = new Rng(1);
    for (const n of SIZES) {
      const a = randArray(rng, n);
      const b = randArray(rng, n);
      const want = new Float32Array(n);
      ew.binary("add", a, [n], b, [n], want);
      const got = new Float32Array(n);
      wasmAdd(a, b, got);
      expect(got).toEqual(want); // one f32 add: exact
      ew.binary("mul", a, [n], b, [n], want);
      wasmAdd(a, b, got, wasmRuntime(), "mul");
      expect(got).toEqual(want); // one f32 product: exact
      const g = randArray(rng, n, 4);
      ew.unary("silu", g, want);
      wasmSilu(g, got);
      expectClose(got, want, SILU_TOL);
    }
  });

  it("siluMul equals silu then mul, large and saturated inputs included", () => {
    const rng = new Rng(2);
    for (const n of [...SIZES, 512]) {
      const g = randArray(rng, n, 6);
      if (n > 4) g.set([100, -100, 0, -0], 0);
      const u = randArray(rng, n);
      const want = new Float32Array(n);
      fusedJs.siluMul(g, u, want);
      const got = new Float32Array(n);
      wasmSiluMul(g, u, got);
      expectClose(got, want, SILU_TOL);
    }
  });

  it("rmsNorm (out and rstd), odd widths, several rows", () => {
    const rng = new Rng(3);
    for (const cols of SIZES) {
      const rows = 3;
      const x = randArray(rng, rows * cols, 2);
      const w = randArray(rng, cols);
      const want = new Float32Array(rows * cols);
      const wantR = new Float32Array(rows);
      rowsJs.rmsNorm(x, w, want, rows, cols, 1e-5, wantR);
      const got = new Float32Array(rows * cols);
      const gotR = new Float32Array(rows);
      wasmRmsNorm(x, w, got, rows, cols, 1e-5, gotR);
      expectClose(got, want, ROW_TOL);
      expectClose(gotR, wantR, ROW_TOL);
    }
  });

  it("rope: shared positions, per-sequence positions, inverse, and in place", () => {
    const rng = new Rng(4);
    for (const D of [2, 6, 8, 10, 32, 34]) {
      // [B=2, H=3, T=5, D] with one row of positions per sequence (grouped over heads).
      const outer = 6;
      const T = 5;
      const x = randArray(rng, outer * T * D);
      for (const positions of [
        [0, 1, 2, 3, 4],
        [7, 8, 9, 10, 11, 100, 101, 102, 103, 2047],
      ]) {
        for (const inverse of [false, true]) {
          const want = new Float32Array(x.length);
          rowsJs.rope(x, want, outer, T, D, positions, 10000, inverse);
          const got = new Float32Array(x.length);
          wasmRope(x, got, outer, T, D, positions, 10000, inverse);
          expectClose(got, want, ROPE_TOL);
          const inPlace = x.slice();
          wasmRope(inPlace, inPlace, outer, T, D, positions, 10000, inverse);
          expect(inPlace).toEqual(got);
        }
      }
    }
  });

  it("softmax and log-softmax, fully masked and partly masked rows", () => {
    const rng = new Rng(5);
    for (const cols of SIZES) {
      const rows = 4;
      const x = randArray(rng, rows * cols, 3);
      x.fill(Number.NEGATIVE_INFINITY, 0, cols); // row 0 fully masked
      for (let j = 1; j < cols; j += 2) x[cols + j] = Number.NEGATIVE_INFINITY; // row 1 half masked
      for (const log of [false, true]) {
        const want = new Float32Array(x.length);
        rowsJs.softmax(x, want, rows, cols, log);
        const got = new Float32Array(x.length);
        wasmSoftmax(x, got, rows, cols, log);
        expectClose(got, want, ROW_TOL);
      }
    }
  });

  it("masked softmax: causal (Tq < Tk), windowed, full, grouped rows, in place, against the reference and f64", () => {
    const rng = new Rng(11);
    const cases = [
      { tq: 5, tk: 5, causal: true, window: undefined },
      { tq: 3, tk: 9, causal: true, window: undefined },
      { tq: 7, tk: 7, causal: true, window: 3 },
      { tq: 1, tk: 33, causal: true, window: 8 },
      { tq: 4, tk: 6, causal: false, window: undefined },
      { tq: 2, tk: 8, causal: true, window: 1 },
    ];
    for (const c of cases) {
      const rows = 3 * c.tq; // three heads stacked along rows
      const x = randArray(rng, rows * c.tk, 3);
      const args = { ...c, rows, scale: 0.7 };
      const want = new Float32Array(x.length).fill(9);
      fusedJs.maskedSoftmax({ ...args, x, out: want });
      // The reference against the definition: each row sums to 1 over exactly the visible keys.
      for (let r = 0; r < rows; r++) {
        const i = r % c.tq;
        const hi = c.causal ? Math.min(i + c.tk - c.tq, c.tk - 1) : c.tk - 1;
        const lo = c.window ? Math.max(0, hi - c.window + 1) : 0;
        let sum = 0;
        for (let j = 0; j < c.tk; j++) {
          const p = want[r * c.tk + j]!;
          if (j < lo || j > hi) expect(p, `row ${r} key ${j}`).toBe(0);
          sum += p;
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
      }
      const got = new Float32Array(x.length).fill(9);
      wasmMaskedSoftmax({ ...args, x, out: got });
      expectClose(got, want, ROW_TOL);
      const inPlace = x.slice();
      wasmMaskedSoftmax({ ...args, x: inPlace, out: inPlace });
      expect(inPlace).toEqual(got);
    }
  });

  it("argmax: first index on ties, NaN skipped as the reference skips it", () => {
    const rng = new Rng(6);
    for (const cols of SIZES) {
      const rows = 3;
      const x = randArray(rng, rows * cols);
      if (cols > 6) {
        x[cols + 2] = 9;
        x[cols + 5] = 9; // tie in row 1
        x[2 * cols + 1] = Number.NaN; // NaN in row 2
      }
      const want = new Int32Array(rows);
      rowsJs.argmax(x, rows, cols, want);
      const got = new Int32Array(rows);
      wasmArgmax(x, rows, cols, got);
      expect(got).toEqual(want);
    }
  });

  it("sample: greedy at temperature 0, the reference's token at temperature > 0", () => {
    const rng = new Rng(7);
    for (const cols of [5, 33, 256]) {
      const rows = 64;
      const logits = randArray(rng, rows * cols, 2);
      const uniforms = Array.from({ length: rows }, () => rng.uniform());
      for (const temperature of [0, 0.7, 1, 2]) {
        const want = new Int32Array(rows);
        fusedJs.sample({ logits, rows, cols, temperature, uniforms, out: want });
        const got = new Int32Array(rows);
        wasmSample({ logits, rows, cols, temperature, uniforms, out: got });
        expect(got).toEqual(want);
      }
    }
  });

  it("AdamW: bit-equal to the JS update over several steps, with decay and clipping", () => {
    const rng = new Rng(8);
    for (const n of SIZES) {
      const pJs = randArray(rng, n);
      const mJs = new Float32Array(n);
      const vJs = new Float32Array(n);
      const pW = pJs.slice();
      const mW = mJs.slice();
      const vW = vJs.slice();
      for (let t = 1; t <= 3; t++) {
        const grad = randArray(rng, n, 0.1);
        const hyper = {
          grad,
          lr: 1e-3,
          beta1: 0.9,
          beta2: 0.95,
          eps: 1e-8,
          decay: t === 2 ? 1 : 1 - 1e-3 * 0.1,
          gradScale: t === 3 ? 0.37 : 1,
          bc1: 1 - 0.9 ** t,
          bc2: 1 - 0.95 ** t,
        };
        fusedJs.adamw({ ...hyper, param: pJs, m: mJs, v: vJs });
        wasmAdamw({ ...hyper, param: pW, m: mW, v: vW });
      }
      expect(pW).toEqual(pJs);
      expect(mW).toEqual(mJs);
      expect(vW).toEqual(vJs);
    }
  });
});

describe("operands in linear memory and workspace accounting", () => {
  it("AdamW updates a resident parameter in place and charges no workspace after the call", () => {
    const rt = wasmRuntime();
    const ledger = getLedger();
    const n = 300;
    const st = allocateResident(rt, ledger, "weights/ffn", "f32", n)!;
    try {
      const p = st.data as Float32Array;
      const rng = new Rng(9);
      p.set(randArray(rng, n));
      const ref = p.slice();
      const grad = randArray(rng, n);
      const hyper = { grad, lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, decay: 1, gradScale: 1, bc1: 0.1 };
      const args = { ...hyper, bc2: 0.05 };
      fusedJs.adamw({ ...args, param: ref, m: new Float32Array(n), v: new Float32Array(n) });
      const before = ledger.snapshot().liveTotal;
      wasmAdamw({ ...args, param: p, m: new Float32Array(n), v: new Float32Array(n) }, rt);
      expect(ledger.snapshot().liveTotal).toBe(before);
      expect(p).toEqual(ref);
    } finally {
      st.release();
    }
  });
});

/** The same threshold for every kernel. */
function everyKernel(min: number): Record<FusedKernelName, number> {
  const t = { ...FUSED_MIN_ELEMENTS };
  for (const k of Object.keys(t) as FusedKernelName[]) t[k] = min;
  return t;
}

describe("fusedKernels dispatch", () => {
  it("below minElements runs the JS kernel, from it the WASM one; both agree", () => {
    const rng = new Rng(10);
    const x = randArray(rng, 4 * 64, 2);
    const w = randArray(rng, 64);
    for (const min of [Number.POSITIVE_INFINITY, 0]) {
      const k = fusedKernels(everyKernel(min));
      const got = new Float32Array(x.length);
      k.rmsNorm(x, w, got, 4, 64, 1e-5);
      const want = new Float32Array(x.length);
      rowsJs.rmsNorm(x, w, want, 4, 64, 1e-5);
      if (min > 0) expect(got).toEqual(want);
      else expectClose(got, want, ROW_TOL);
    }
  });

  it("binary ops other than a same-shape add, and unary maps other than silu, stay on JS", () => {
    const k = fusedKernels(everyKernel(0));
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float32Array.from([10, 20, 30]);
    const out = new Float32Array(6);
    k.binary("add", a, [2, 3], b, [3], out); // broadcast
    expect([...out]).toEqual([11, 22, 33, 14, 25, 36]);
    k.binary("sub", a, [6], a, [6], out);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0]);
    k.unary("neg", a, out);
    expect([...out]).toEqual([-1, -2, -3, -4, -5, -6]);
  });
});
