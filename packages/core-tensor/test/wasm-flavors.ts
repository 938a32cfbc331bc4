/**
 * Test helper: run a describe block's tests on one WASM kernels flavor (`simd` or `relaxed`), so that
 * a kernel's suite covers both builds with `describe.each(WASM_FLAVORS)`. Test-only, not part of the
 * package; the flavor never leaks past the block (and vitest's forks pool gives each file a process).
 */
import { afterAll, beforeAll } from "vitest";
import { WASM_FLAVORS, type WasmFlavor } from "../src/wasm/flavor.js";
import { disposeWasm, setWasmFlavor } from "../src/wasm/runtime.js";

export { WASM_FLAVORS, type WasmFlavor };

/**
 * Inside a `describe`: before its tests, drop the shared runtime and select `flavor` (on Node 20 this
 * sets V8's relaxed-SIMD flag for the process); after them, drop that runtime and go back to the
 * default (`TRADEOFFS_WASM_FLAVOR`, else simd). Tests then use `wasmRuntime()` / the WASM backend as
 * usual, and `wasmRuntime().flavor === flavor`.
 *
 * @example
 * ```ts
 * describe.each(WASM_FLAVORS)("my kernel (%s)", (flavor) => {
 *   useWasmFlavor(flavor);
 *   it("matches the JS reference", () => { ... });
 * });
 * ```
 */
export function useWasmFlavor(flavor: WasmFlavor): void {
  beforeAll(() => {
    disposeWasm();
    setWasmFlavor(flavor);
  });
  afterAll(() => {
    disposeWasm();
    setWasmFlavor(undefined);
  });
}
