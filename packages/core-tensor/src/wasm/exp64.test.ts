import { describe, expect, it } from "vitest";
import { useWasmFlavor, WASM_FLAVORS } from "../../test/wasm-flavors.js";
import * as fusedJs from "../kernels/fused.js";
import { Rng } from "../rng.js";
import { fusedExports, wasmSiluBackward, wasmZero } from "./fused.js";
import { wasmRuntime } from "./runtime.js";

/** Values whose exp takes each branch of the algorithm (exp64.ts), and its edges. */
const EDGES = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  2 ** -29,
  -(2 ** -29),
  2 ** -27,
  0.3465735902799726,
  0.34657359027997264,
  1.0397207708399179,
  1.0397207708399181,
  709.78,
  709.7827128933841,
  709.79,
  -708.39,
  -720,
  -745.13,
  -745.2,
  1e-300,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
];

/** Random f64 values over several ranges, plus raw bit patterns (every exponent, NaNs included). */
function samples(rng: Rng): number[] {
  const xs = [...EDGES];
  for (const span of [3, 40, 1500]) for (let i = 0; i < 20_000; i++) xs.push((rng.uniform() - 0.5) * span);
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  for (let i = 0; i < 20_000; i++) {
    words[0] = rng.nextU32();
    words[1] = rng.nextU32();
    xs.push(bits[0]!);
  }
  return xs;
}

describe.each(WASM_FLAVORS)("V8's exp and SiLU's backward in WASM (%s)", (flavor) => {
  useWasmFlavor(flavor);

  it("expF64 gives Math.exp's bits (so kernels using it match the JS references)", () => {
    const k = fusedExports(wasmRuntime());
    const bad = samples(new Rng(5)).filter((x) => !Object.is(k.expF64(x), Math.exp(x)));
    expect(bad.slice(0, 5).map((x) => [x, k.expF64(x), Math.exp(x)])).toEqual([]);
  });

  it("the two-lane exp of the kernels gives Math.exp's bits too, in either lane", () => {
    const rt = wasmRuntime();
    const xs = samples(new Rng(6));
    for (const shift of [0, 1]) {
      const x = Float64Array.from(xs.slice(shift));
      const at = rt.scratchBase;
      const { u8 } = rt.ensure(at + 2 * x.byteLength);
      const f64 = new Float64Array(u8.buffer);
      f64.set(x, at >> 3);
      fusedExports(rt).expF64Pairs(at, at + x.byteLength, x.length);
      const got = f64.subarray((at + x.byteLength) >> 3, (at + 2 * x.byteLength) >> 3);
      const bad = [...x.keys()].filter((i) => !Object.is(got[i], Math.exp(x[i]!)));
      expect(bad.slice(0, 5).map((i) => [x[i], got[i], Math.exp(x[i]!)])).toEqual([]);
    }
  });

  it("siluBackward is bit-identical to the JS reference, odd sizes and extremes included", () => {
    const rng = new Rng(9);
    for (const n of [1, 3, 1023, 1024, 4099]) {
      const g = Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 4);
      const x = Float32Array.from({ length: n }, (_, i) =>
        i % 97 === 0 ? [-200, 90, 0, -0][i % 4]! : (rng.uniform() - 0.5) * 30,
      );
      const want = new Float32Array(n);
      const got = new Float32Array(n).fill(Number.NaN);
      fusedJs.siluBackward(g, x, want);
      wasmSiluBackward(g, x, got);
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    }
  });

  it("wasmZero zeroes exactly the bytes asked for", () => {
    const rt = wasmRuntime();
    const at = rt.scratchBase;
    const { u8 } = rt.ensure(at + 256);
    u8.fill(7, at, at + 256);
    wasmZero(rt, at + 3, 100);
    wasmZero(rt, at + 200, 0);
    expect([u8[at + 2], u8[at + 3], u8[at + 102], u8[at + 103], u8[at + 200]]).toEqual([7, 0, 0, 7, 7]);
  });
});
