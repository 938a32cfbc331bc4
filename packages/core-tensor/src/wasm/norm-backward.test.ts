import { describe, expect, it } from "vitest";
import { useWasmFlavor, WASM_FLAVORS } from "../../test/wasm-flavors.js";
import * as rowsJs from "../kernels/rows.js";
import { Rng } from "../rng.js";
import { FUSED_MIN_ELEMENTS, fusedKernels, wasmRmsNormBackward } from "./fused.js";

function rand(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 2 * scale);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

describe.each(WASM_FLAVORS)("RMSNorm backward in WASM (%s)", (flavor) => {
  useWasmFlavor(flavor);

  it("is bit-identical to the JS reference (odd widths, gw accumulated over rows, either output absent)", () => {
    const rng = new Rng(3);
    for (const [rows, cols] of [
      [1, 1],
      [3, 5],
      [7, 192],
      [64, 193],
    ] as const) {
      const x = rand(rng, rows * cols, 3);
      const w = rand(rng, cols, 1.5);
      const g = rand(rng, rows * cols);
      const rstd = Float32Array.from({ length: rows }, () => 0.2 + rng.uniform());
      const gw0 = rand(rng, cols); // accumulated into, as a gradient may be
      for (const want of [
        { gx: true, gw: true },
        { gx: true, gw: false },
        { gx: false, gw: true },
      ]) {
        const js = { gx: want.gx ? new Float32Array(rows * cols) : null, gw: want.gw ? gw0.slice() : null };
        const wa = {
          gx: want.gx ? new Float32Array(rows * cols).fill(Number.NaN) : null,
          gw: want.gw ? gw0.slice() : null,
        };
        rowsJs.rmsNormBackward({ x, w, rstd, g, rows, cols, ...js });
        wasmRmsNormBackward({ x, w, rstd, g, rows, cols, ...wa });
        if (js.gx) expect(sameBits(wa.gx!, js.gx)).toBe(true);
        if (js.gw) expect(sameBits(wa.gw!, js.gw)).toBe(true);
      }
    }
  });

  it("the backend hook takes WASM from its threshold and JS below it, with the same bits", () => {
    const k = fusedKernels();
    const cols = 64;
    for (const rows of [1, Math.ceil(FUSED_MIN_ELEMENTS.rmsNormBackward / cols) + 1]) {
      const rng = new Rng(rows);
      const a = { x: rand(rng, rows * cols), w: rand(rng, cols), g: rand(rng, rows * cols), rows, cols };
      const rstd = new Float32Array(rows).fill(1.3);
      const js = { gx: new Float32Array(rows * cols), gw: new Float32Array(cols) };
      const be = { gx: new Float32Array(rows * cols), gw: new Float32Array(cols) };
      rowsJs.rmsNormBackward({ ...a, rstd, ...js });
      k.rmsNormBackward!({ ...a, rstd, ...be });
      expect(sameBits(be.gx, js.gx) && sameBits(be.gw, js.gw)).toBe(true);
    }
  });
});
