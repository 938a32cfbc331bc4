/**
 * siluMul against its definition mul(silu(gate), up): forward on the JS and WASM backends (every
 * size, so the WASM kernel runs), and its backward against the composite's gradients.
 */
import { afterAll, describe, expect, it } from "vitest";
import { expectNear, normalSampler, ROW_TOL, withFresh } from "../../test/ops-support.js";
import { backward } from "../autograd.js";
import { withBackend } from "../backend.js";
import { ShapeError } from "../errors.js";
import { FUSED_MIN_ELEMENTS, fusedKernels } from "../wasm/fused.js";
import { wasmAvailable } from "../wasm/loader.js";
import { disposeWasm } from "../wasm/runtime.js";
import { wasmBackend } from "../wasm/wasm-backend.js";
import { mul } from "./binary.js";
import { siluMul } from "./silu-mul.js";
import { silu } from "./unary.js";

/** SiLU through the WASM kernel's f32 exp vs JS's f64 exp, then one f32 product. */
const SILU_MUL_TOL = 2e-6;

const rnd = normalSampler(31);
afterAll(() => disposeWasm());

describe("siluMul", () => {
  it("equals mul(silu(gate), up) on the JS backend and, at every size, on WASM", () => {
    // WASM with every threshold at 0, so each size runs the WASM kernel.
    const always = Object.fromEntries(Object.keys(FUSED_MIN_ELEMENTS).map((k) => [k, 0]));
    const backends = wasmAvailable()
      ? ["js", { ...wasmBackend(1), ...fusedKernels(always as typeof FUSED_MIN_ELEMENTS) }]
      : ["js"];
    for (const b of backends) {
      for (const shape of [[3], [2, 5], [1, 512], [3, 1024], [4, 4099]]) {
        withFresh(() =>
          withBackend(b, () => {
            const g = rnd(shape, 3);
            const u = rnd(shape);
            const want = withBackend("js", () => mul(silu(g), u));
            expectNear(siluMul(g, u).data, want.data, SILU_MUL_TOL, `${shape}`);
          }),
        );
      }
    }
  });

  it("backward gives the composite's gradients for gate and up", () => {
    withFresh(() => {
      const g = rnd([4, 7], 2);
      const u = rnd([4, 7]);
      g.requiresGrad = true;
      u.requiresGrad = true;
      const r = rnd([4, 7]);
      backward(siluMul(g, u), { grad: r });
      const fused = [g.grad!.data.slice(), u.grad!.data.slice()];
      g.grad = null;
      u.grad = null;
      backward(mul(silu(g), u), { grad: r });
      expectNear(fused[0]!, g.grad!.data, ROW_TOL, "d gate");
      expectNear(fused[1]!, u.grad!.data, ROW_TOL, "d up");
    });
  });

  it("rejects operands of different shapes, naming both", () => {
    withFresh(() => {
      expect(() => siluMul(rnd([2, 3]), rnd([3, 2]))).toThrow(ShapeError);
      expect(() => siluMul(rnd([2, 3]), rnd([3, 2]))).toThrow(/\[2,3\].*\[3,2\]/);
    });
  });
});
