/**
 * Validates, compiles and caches the WASM kernels modules (`dist/wasm/kernels.wasm` and the relaxed-SIMD
 * `kernels-relaxed.wasm`, both built by `asc` in `pnpm build` from `assembly/`). Where the bytes come
 * from is the platform's business (`#host`: Node reads the file, compiling it first in a source
 * checkout; a browser fetches it by URL through `loadWasm()`). Not here: instances, memory or threads
 * (runtime.ts), or which flavor the process uses (flavor.ts).
 */
import { host } from "#host";
import { ConfigError } from "../errors.js";
import { type WasmFlavor, wasmFlavor } from "./flavor.js";
import { type WasmModule, webAssembly } from "./wasm-api.js";

export type { WasmFlavor } from "./flavor.js";

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

/**
 * Throws a ConfigError when this runtime rejects `bytes`. For the relaxed flavor it first asks the host
 * to switch relaxed SIMD on (Node 20: V8's `--experimental-wasm-relaxed-simd`, process-wide) and checks
 * again. Relaxed SIMD ships on by default in V8 11.4+: Chrome 114, Node 22
 * (source: https://webassembly.org/features/, "Relaxed SIMD").
 */
function checkBytes(bytes: Uint8Array, flavor: WasmFlavor): void {
  if (webAssembly!.validate(bytes)) return;
  if (flavor === "relaxed" && host.enableRelaxedSimd() && webAssembly!.validate(bytes)) return;
  throw new ConfigError(
    [
      flavor === "relaxed"
        ? "this runtime cannot run the WASM kernels of flavor 'relaxed' (needs WebAssembly SIMD, threads and relaxed SIMD: Node ≥ 22, Chrome ≥ 114, or Node 20 with V8's --experimental-wasm-relaxed-simd); select the 'simd' flavor (setWasmFlavor(\"simd\") or unset TRADEOFFS_WASM_FLAVOR) or use the JS backend"
        : "this runtime cannot run the WASM kernels (needs WebAssembly SIMD and threads); use the JS backend",
    ],
    { flavor },
  );
}

/**
 * The compiled module of `flavor` (default: the process's, `wasmFlavor()`), cached per flavor. Throws a
 * ConfigError saying why when unavailable.
 */
export function wasmModule(flavor: WasmFlavor = wasmFlavor()): WasmModule {
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
  /** Which compiled variant (default: the process's flavor, `wasmFlavor()`; `simd` unless chosen). */
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
  const flavor = options.flavor ?? wasmFlavor();
  if (modules.has(flavor)) return;
  checkRuntime(flavor);
  const bytes = options.bytes ?? (await host.fetchWasmBytes(flavor, options.url));
  checkBytes(bytes, flavor);
  const compile = (webAssembly as unknown as { compile(b: Uint8Array): Promise<WasmModule> }).compile;
  modules.set(flavor, await compile(bytes));
  failures.delete(flavor);
}

/**
 * Whether the WASM backend can run here (SIMD, shared memory, module present or buildable) with
 * `flavor` (default: the process's flavor; false too when `TRADEOFFS_WASM_FLAVOR` names none).
 */
export function wasmAvailable(flavor?: WasmFlavor): boolean {
  try {
    wasmModule(flavor);
    return true;
  } catch {
    return false;
  }
}

/** Why `wasmAvailable()` is false (undefined when it is true). */
export function wasmUnavailableReason(flavor?: WasmFlavor): string | undefined {
  try {
    wasmModule(flavor);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
