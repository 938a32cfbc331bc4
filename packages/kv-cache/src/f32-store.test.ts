/**
 * Where the fp32 store keeps its vectors: in the WASM backend's linear memory when that backend is
 * active (so a cache's gathers copy with one memory.copy), else in an ordinary array; the ledger
 * charges the same bytes either way. Its values are the contract suite's business.
 */
import {
  disposeWasm,
  jsBackend,
  MemoryLedger,
  wasm,
  wasmAvailable,
  wasmRuntime,
  withBackend,
  withLedger,
} from "@tradeoffs/core-tensor";
import { afterAll, describe, expect, it } from "vitest";
import { f32Store } from "./f32-store.js";

afterAll(() => disposeWasm());

describe.skipIf(!wasmAvailable())("f32Store placement", () => {
  it("lives in WASM memory on the WASM backend and in an ordinary array on JS, charged alike", () => {
    const ledger = new MemoryLedger();
    withLedger(ledger, () => {
      const onWasm = withBackend(wasm().exec.backend, () => f32Store(10, 4, "kv/test"));
      const onJs = withBackend(jsBackend, () => f32Store(10, 4, "kv/test"));
      expect(wasmRuntime().addressOf(onWasm.f32!)).toBeDefined();
      expect(wasmRuntime().addressOf(onJs.f32!)).toBeUndefined();
      expect(ledger.live("kv/test")).toBe(2 * 10 * 4 * 4);
      for (const s of [onWasm, onJs]) {
        s.write(3, Float32Array.of(1, 2, 3, 4), 0);
        const out = new Float32Array(5);
        s.read(3, out, 1);
        expect(Array.from(out)).toEqual([0, 1, 2, 3, 4]);
        s.dispose();
      }
    });
    expect(ledger.live()).toBe(0);
  });
});
