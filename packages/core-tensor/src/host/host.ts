/**
 * The platform seam of core-tensor: the few things that differ between Node and a browser (file bytes,
 * the compiled WASM kernels' bytes, helper threads). `#host` resolves to node.ts or browser.ts by the
 * package.json `imports` conditions; this file is only the contract both implement, not either one.
 */
import type { WasmMemory, WasmModule } from "../wasm/wasm-api.js";

/** Which compiled variant of the WASM kernels: plain SIMD (default) or relaxed-SIMD FMA (opt-in). */
export type WasmFlavor = "simd" | "relaxed";

/** Every WASM flavor, the default first (the names `setWasmFlavor` and `TRADEOFFS_WASM_FLAVOR` take). */
export const WASM_FLAVORS: readonly WasmFlavor[] = Object.freeze(["simd", "relaxed"]);

/** The environment variable that picks the process's WASM flavor before any code does. */
export const WASM_FLAVOR_ENV = "TRADEOFFS_WASM_FLAVOR";

/** What a helper thread is handed: the compiled kernels, the shared memory, its control block. */
export interface HelperData {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly ctrl: SharedArrayBuffer;
  readonly names: readonly string[];
}

/** A started helper thread. */
export interface HelperThread {
  terminate(): void;
}

/** Positioned reads from an open file (GGUF headers are read without their tensor data). */
export interface FileReader {
  readonly size: number;
  /** Up to `length` bytes from `position` (fewer at the end of the file). */
  read(position: number, length: number): Uint8Array;
  close(): void;
}

/** One platform's implementation of the seam. */
export interface Host {
  readonly name: "node" | "browser";
  /** A whole file's bytes. */
  readFile(path: string): Uint8Array;
  /** Write `bytes` to `path` atomically (a temp file beside it, then rename). */
  writeFileAtomic(path: string, bytes: Uint8Array | string): void;
  /** Open `path` for positioned reads. */
  openFile(path: string): FileReader;
  /** The kernels' bytes, synchronously (Node: read, compiling them first in a source checkout). */
  wasmBytes(flavor: WasmFlavor): Uint8Array;
  /** The kernels' bytes, asynchronously from `url` (default: the package's own `dist/wasm/` file). */
  fetchWasmBytes(flavor: WasmFlavor, url?: string | URL): Promise<Uint8Array>;
  /**
   * Whether this thread may hand work to helper threads: it must be allowed to block in `Atomics.wait`
   * (not a browser's main thread) and to share memory with workers (browsers: `crossOriginIsolated`).
   */
  helpersAllowed(): boolean;
  /** Start a helper running `body` (a script using a `workerData` binding of type HelperData). */
  startHelper(body: string, data: HelperData): HelperThread;
  /**
   * Try to make this runtime accept relaxed-SIMD opcodes; true when something was switched on (Node 20
   * sets V8's `--experimental-wasm-relaxed-simd` for the whole process), false where nothing can be done.
   */
  enableRelaxedSimd(): boolean;
  /** The `TRADEOFFS_WASM_FLAVOR` environment variable (Node), or undefined (browsers have none). */
  wasmFlavorFromEnv(): string | undefined;
}

/** The relative location of each flavor's module inside the package (`src/` and `dist/` share depth). */
export const WASM_FILES: Record<WasmFlavor, { readonly file: string; readonly target: string }> = {
  simd: { file: "dist/wasm/kernels.wasm", target: "release" },
  relaxed: { file: "dist/wasm/kernels-relaxed.wasm", target: "relaxed" },
};
