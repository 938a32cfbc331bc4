/**
 * Unary maps with a formula worth pinning: SiLU is x·σ(x) and GELU the tanh approximation, across the
 * saturating range. Every unary gradient is checked in autograd.test.ts.
 */
import { describe, it } from "vitest";
import { ELEMENTWISE_TOL, expectNear, withFresh } from "../../test/ops-support.js";
import { tensor } from "../tensor.js";
import { gelu, silu } from "./unary.js";

describe("activations", () => {
  it("SiLU is x·σ(x) and GELU is the tanh approximation", () => {
    withFresh(() => {
      const x = tensor([-30, -3, -1, -0.5, 0, 0.5, 1, 3, 30]);
      const xs = Array.from(x.data);
      expectNear(
        silu(x).data,
        xs.map((v) => v / (1 + Math.exp(-v))),
        ELEMENTWISE_TOL,
      );
      const k = Math.sqrt(2 / Math.PI);
      expectNear(
        gelu(x).data,
        xs.map((v) => 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v ** 3)))),
        ELEMENTWISE_TOL,
      );
    });
  });
});
