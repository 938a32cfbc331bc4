/**
 * sampleTokens: greedy equals argmax, the empirical distribution at temperature 1 follows the
 * softmax, a low temperature concentrates on the argmax, WASM draws the JS backend's tokens, and bad
 * arguments are refused.
 */
import { afterAll, describe, expect, it } from "vitest";
import { normalSampler, withFresh } from "../../test/ops-support.js";
import { withBackend } from "../backend.js";
import { ValueError } from "../errors.js";
import { Rng } from "../rng.js";
import { tensor } from "../tensor.js";
import { wasmAvailable } from "../wasm/loader.js";
import { disposeWasm } from "../wasm/runtime.js";
import { wasmBackend } from "../wasm/wasm-backend.js";
import { sampleTokens } from "./sample.js";
import { argmax } from "./select.js";

const rnd = normalSampler(51);
afterAll(() => disposeWasm());

describe("sampleTokens", () => {
  it("temperature 0 is the argmax of each row (first on ties) and draws nothing", () => {
    withFresh(() => {
      const x = rnd([5, 33]);
      x.data[40] = 9;
      x.data[41] = 9;
      const rng = new Rng(1);
      const before = rng.uniform();
      const rng2 = new Rng(1);
      expect([...sampleTokens(x, 0, rng2)]).toEqual([...argmax(x).int32]);
      expect(rng2.uniform()).toBe(before);
    });
  });

  it("at temperature 1 the frequencies follow softmax(logits) (within 4 standard errors)", () => {
    withFresh(() => {
      const logits = [1, 0, -1, 2];
      const x = tensor(
        Array.from({ length: 4000 }, (_, i) => logits[i % 4]!),
        [1000, 4],
      );
      const counts = [0, 0, 0, 0];
      for (const id of sampleTokens(x, 1, new Rng(2))) counts[id]!++;
      const z = logits.reduce((s, l) => s + Math.exp(l), 0);
      logits.forEach((l, j) => {
        const p = Math.exp(l) / z;
        const se = Math.sqrt((p * (1 - p)) / 1000);
        expect(Math.abs(counts[j]! / 1000 - p), `token ${j}`).toBeLessThanOrEqual(4 * se);
      });
    });
  });

  it("a low temperature picks the argmax", () => {
    withFresh(() => {
      const x = rnd([50, 17]);
      expect([...sampleTokens(x, 1e-3, new Rng(3))]).toEqual([...argmax(x).int32]);
    });
  });

  it.skipIf(!wasmAvailable())("the WASM sampler draws the JS sampler's tokens (vocab 256 and 4099)", () => {
    withFresh(() => {
      for (const cols of [256, 4099]) {
        const x = rnd([40, cols], 2);
        for (const t of [0, 0.8, 1.5]) {
          const js = withBackend("js", () => sampleTokens(x, t, new Rng(4)));
          const wasm = withBackend(wasmBackend(1), () => sampleTokens(x, t, new Rng(4)));
          expect([...wasm]).toEqual([...js]);
        }
      }
    });
  });

  it("refuses a negative or NaN temperature, and sampling without an rng", () => {
    withFresh(() => {
      const x = rnd([2, 3]);
      expect(() => sampleTokens(x, -1, new Rng(1))).toThrow(ValueError);
      expect(() => sampleTokens(x, Number.NaN, new Rng(1))).toThrow(ValueError);
      expect(() => sampleTokens(x, 0.5)).toThrow(/needs an rng/);
    });
  });
});
