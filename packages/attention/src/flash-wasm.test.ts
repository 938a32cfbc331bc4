import { disposeWasm, noGrad, Rng, randn, wasm, wasmAvailable, withBackend } from "@tradeoffs/core-tensor";
import { expectClose } from "@tradeoffs/strategy-testkit";
import { afterAll, describe, it } from "vitest";
import { FLASH_FP32_TOL, flashAttention } from "./flash.js";

afterAll(() => disposeWasm());

describe.skipIf(!wasmAvailable())("Flash inference on the WASM backend", () => {
  for (const [H, Hkv, Tq, Tk, causal, window] of [
    [6, 2, 1, 37, true, undefined],
    [4, 2, 9, 9, true, 4],
    [2, 1, 5, 11, false, undefined],
    [6, 6, 70, 70, true, undefined],
  ] as const) {
    it(`equals the JS kernel: H=${H} Hkv=${Hkv} Tq=${Tq} Tk=${Tk} causal=${causal} window=${window}`, () => {
      const rng = new Rng(5);
      const q = randn([2, H, Tq, 16], rng);
      const k = randn([2, Hkv, Tk, 16], rng);
      const v = randn([2, Hkv, Tk, 16], rng);
      const options = { causal, window, blockQ: 16, blockK: 16 };
      const js = noGrad(() => flashAttention(q, k, v, options));
      const fast = withBackend(wasm().exec.backend, () => noGrad(() => flashAttention(q, k, v, options)));
      expectClose(fast, js, FLASH_FP32_TOL, "WASM flash vs JS flash");
      for (const t of [q, k, v, js, fast]) t.dispose();
    });
  }
});
