/**
 * Which build of the WASM kernels this process uses: the name check, the `TRADEOFFS_WASM_FLAVOR`
 * default and the one selected value. Not here: switching a live runtime (`setWasmFlavor` in
 * runtime.ts, which owns the shared runtime) or compiling a flavor (loader.ts).
 */
import { host } from "#host";
import { ConfigError } from "../errors.js";
import { WASM_FLAVOR_ENV, WASM_FLAVORS, type WasmFlavor } from "../host/host.js";

export { WASM_FLAVOR_ENV, WASM_FLAVORS, type WasmFlavor } from "../host/host.js";

/** Set by `setWasmFlavor`; undefined means "the environment variable, else simd". */
let selected: WasmFlavor | undefined;

/**
 * `name` as a WasmFlavor, or a ConfigError naming where it came from (`from`), the bad value and the
 * valid choices.
 */
export function parseWasmFlavor(name: unknown, from = "WASM flavor"): WasmFlavor {
  if (typeof name === "string" && (WASM_FLAVORS as readonly string[]).includes(name))
    return name as WasmFlavor;
  throw new ConfigError(
    [`${from} '${String(name)}' is not a WASM flavor; use one of: ${WASM_FLAVORS.join(", ")}`],
    { flavor: name, valid: WASM_FLAVORS },
  );
}

/**
 * The flavor the shared WASM runtime uses (or will use when it starts): the one `setWasmFlavor` chose,
 * else `TRADEOFFS_WASM_FLAVOR` (Node), else `simd`. Throws a ConfigError when the variable holds an
 * unknown name.
 */
export function wasmFlavor(): WasmFlavor {
  return selected ?? envWasmFlavor();
}

/** `TRADEOFFS_WASM_FLAVOR`'s flavor (unset or empty: `simd`); a ConfigError for an unknown name. */
export function envWasmFlavor(): WasmFlavor {
  const env = host.wasmFlavorFromEnv();
  return env === undefined || env === "" ? "simd" : parseWasmFlavor(env, WASM_FLAVOR_ENV);
}

/** Record the selection (runtime.ts's `setWasmFlavor` checks and switches first). */
export function recordWasmFlavor(flavor: WasmFlavor | undefined): void {
  selected = flavor;
}
