/**
 * adamwUpdate: the update formula checked by hand for one element, bit-equality of the JS and WASM
 * backends over several steps (sizes on both sides of the WASM threshold), and the size checks.
 */
import { afterAll, describe, expect, it } from "vitest";
import { normalSampler, withFresh } from "../../test/ops-support.js";
import { withBackend } from "../backend.js";
import { ShapeError } from "../errors.js";
import { tensor, zeros } from "../tensor.js";
import { wasmAvailable } from "../wasm/loader.js";
import { disposeWasm } from "../wasm/runtime.js";
import { wasmBackend } from "../wasm/wasm-backend.js";
import { type AdamWHyper, adamwUpdate } from "./adamw.js";

const rnd = normalSampler(41);
afterAll(() => disposeWasm());

function hyper(t: number): AdamWHyper {
  return {
    lr: 1e-2,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    decay: 1 - 1e-2 * 0.1,
    gradScale: t === 2 ? 0.5 : 1,
    bc1: 1 - 0.9 ** t,
    bc2: 1 - 0.95 ** t,
  };
}

describe("adamwUpdate", () => {
  it("first step by hand: m = (1−β₁)g, v = (1−β₂)g², p ← p·decay − lr·sign(g)·|g|/(|g| + eps·…)", () => {
    withFresh(() => {
      const p = tensor([2], [1]);
      const g = tensor([0.5], [1]);
      const m = zeros([1]);
      const v = zeros([1]);
      const h = hyper(1);
      adamwUpdate(p, g, m, v, h);
      const mm = Math.fround(0.1 * 0.5);
      const vv = Math.fround(0.05 * 0.25);
      expect(m.data[0]).toBe(mm);
      expect(v.data[0]).toBe(vv);
      expect(p.data[0]).toBe(
        Math.fround(2 * h.decay - (h.lr * (mm / h.bc1)) / (Math.sqrt(vv / h.bc2) + h.eps)),
      );
    });
  });

  it.skipIf(!wasmAvailable())("WASM equals JS bit for bit over three steps", () => {
    for (const n of [5, 4095, 4096, 10_001]) {
      withFresh(() => {
        const init = rnd([n]);
        const run = (backend: "js" | ReturnType<typeof wasmBackend>) =>
          withBackend(backend, () => {
            const p = tensor(init.data, [n]);
            const m = zeros([n]);
            const v = zeros([n]);
            const grads = normalSampler(5);
            for (let t = 1; t <= 3; t++) adamwUpdate(p, grads([n], 0.1), m, v, hyper(t));
            return [p.data, m.data, v.data];
          });
        const [pj, mj, vj] = run("js");
        const [pw, mw, vw] = run(wasmBackend(2));
        expect(pw).toEqual(pj);
        expect(mw).toEqual(mj);
        expect(vw).toEqual(vj);
      });
    }
  });

  it("rejects a gradient or moment of another size, naming it", () => {
    withFresh(() => {
      const p = zeros([4]);
      expect(() => adamwUpdate(p, zeros([3]), zeros([4]), zeros([4]), hyper(1))).toThrow(ShapeError);
      expect(() => adamwUpdate(p, zeros([4]), zeros([4]), zeros([5]), hyper(1))).toThrow(/v \[5\]/);
    });
  });
});
