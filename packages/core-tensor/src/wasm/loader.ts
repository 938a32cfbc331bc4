/**
 * Validates, compiles and caches the WASM kernels module (`dist/wasm/kernels.wasm`, built by `asc` in
 * `pnpm build` from `assembly/`). Where the bytes come from is the platform's business (`#host`: Node
 * reads the file, compiling it first in a source checkout; a browser fetches it by URL through
 * `loadWasm()`). Not here: instances, memory or threads (runtime.ts).
 */
import { host } from "#host";
import { ConfigError } from "../errors.js";
import type { WasmFlavor } from "../host/host.js";
import { type WasmModule, webAssembly } from "./wasm-api.js";

export type { WasmFlavor } from "../host/host.js";

const modules = new Map<WasmFlavor, WasmModule>();
const failures = new Map<WasmFlavor, string>();

/** Whether this runtime can create a shared `WebAssembly.Memory` (browsers: cross-origin isolated or not). */
function sharedMemoryWorks(): boolean {
  try {
    new webAssembly!.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Throws a ConfigError when this runtime lacks what the kernels need. */
function checkRuntime(flavor: WasmFlavor): void {
  if (!webAssembly || typeof Atomics === "undefined" || !sharedMemoryWorks()) {
    throw new ConfigError(
      ["WASM backend needs WebAssembly with shared memory and Atomics; use the JS backend"],
      { flavor },
    );
  }
}

function checkBytes(bytes: Uint8Array, flavor: WasmFlavor): void {
  if (!webAssembly!.validate(bytes)) {
    throw new ConfigError(
      [
        `this runtime cannot run the WASM kernels (needs WebAssembly SIMD and threads${
          flavor === "relaxed" ? ", and relaxed SIMD: node --experimental-wasm-relaxed-simd" : ""
        }); use the JS backend`,
      ],
      { flavor },
    );
  }
}

/** The compiled module (cached per flavor). Throws a ConfigError saying why when unavailable. */
export function wasmModule(flavor: WasmFlavor = "simd"): WasmModule {
  const cached = modules.get(flavor);
  if (cached) return cached;
  const failed = failures.get(flavor);
  if (failed !== undefined) throw new ConfigError([failed], { flavor });
  try {
    checkRuntime(flavor);
    const bytes = host.wasmBytes(flavor);
    checkBytes(bytes, flavor);
    const mod = new webAssembly!.Module(bytes);
    modules.set(flavor, mod);
    return mod;
  } catch (e) {
    // In a browser the sync path always fails until loadWasm(): do not remember that as final.
    if (host.name === "node") failures.set(flavor, e instanceof Error ? e.message : String(e));
    throw e;
  }
}

/** Where `loadWasm` takes the kernels from. */
export interface LoadWasmOptions {
  /** Which compiled variant (default `simd`). */
  readonly flavor?: WasmFlavor;
  /**
   * URL of the `.wasm` file. Default: the package's own `dist/wasm/` file next to this module, which a
   * bundler that moves the code (esbuild) does not copy: serve `kernels.wasm` and pass its URL.
   */
  readonly url?: string | URL;
  /** The module's bytes themselves (then nothing is fetched). */
  readonly bytes?: Uint8Array;
}

/**
 * Fetch and compile the WASM kernels ahead of use. Needed in browsers, where the module loads
 * asynchronously (`await loadWasm({ url })`, then `setBackend("WASM")`); optional in Node, where the
 * first use reads the file synchronously. Resolves at once when the flavor is already loaded; rejects
 * with a ConfigError saying why when this runtime cannot run the kernels.
 *
 * @example
 * ```ts
 * await loadWasm({ url: new URL("./kernels.wasm", location.href) });
 * setBackend(wasm({ threads: 1 }));
 * ```
 */
export async function loadWasm(options: LoadWasmOptions = {}): Promise<void> {
  const flavor = options.flavor ?? "simd";
  if (modules.has(flavor)) return;
  checkRuntime(flavor);
  const bytes = options.bytes ?? (await host.fetchWasmBytes(flavor, options.url));
  checkBytes(bytes, flavor);
  const compile = (webAssembly as unknown as { compile(b: Uint8Array): Promise<WasmModule> }).compile;
  modules.set(flavor, await compile(bytes));
  failures.delete(flavor);
}

/** Whether the WASM backend can run here (SIMD, shared memory, module present or buildable). */
export function wasmAvailable(flavor: WasmFlavor = "simd"): boolean {
  try {
    wasmModule(flavor);
    return true;
  } catch {
    return false;
  }
}

/** Why `wasmAvailable()` is false (undefined when it is true). */
export function wasmUnavailableReason(flavor: WasmFlavor = "simd"): string | undefined {
  try {
    wasmModule(flavor);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
