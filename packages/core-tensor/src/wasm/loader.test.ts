import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { loadWasm, wasmAvailable } from "./loader.js";

describe("loadWasm (the asynchronous path browsers take)", () => {
  it("compiles the kernels ahead of use; the synchronous path then finds them", async () => {
    // simd named explicitly: under TRADEOFFS_WASM_FLAVOR=relaxed the default would load the relaxed
    // module, and the next test needs that flavor not yet loaded.
    await expect(loadWasm({ flavor: "simd" })).resolves.toBeUndefined();
    expect(wasmAvailable("simd")).toBe(true);
  });

  it("rejects bytes this runtime cannot run with a ConfigError that says why", async () => {
    const err = await loadWasm({ flavor: "relaxed", bytes: Uint8Array.from([0, 97, 115, 109, 9, 9]) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(/cannot run the WASM kernels.*use the JS backend/);
    // The relaxed flavor's error names the flavor and what would work (Node 20 had its flag set first).
    expect(String((err as Error).message)).toMatch(
      /flavor 'relaxed'.*Node ≥ 22.*--experimental-wasm-relaxed-simd.*setWasmFlavor\("simd"\)/,
    );
  });
});
