/**
 * The browser side of the platform seam: no file system (the path-based readers and writers throw a
 * ConfigError naming the bytes-based function to use instead), the WASM kernels fetched by URL, and
 * helpers as Web Workers, allowed only off the main thread of a cross-origin-isolated page.
 */
import { ConfigError } from "../errors.js";
import {
  type FileReader,
  type HelperData,
  type HelperThread,
  type Host,
  WASM_FILES,
  type WasmFlavor,
} from "./host.js";

function noFiles(what: string, path: string, instead: string): never {
  throw new ConfigError(
    [`${what}('${path}') needs a file system, which a browser does not have; ${instead}`],
    { path },
  );
}

async function fetchWasmBytes(flavor: WasmFlavor, url?: string | URL): Promise<Uint8Array> {
  // `src/host/` and `dist/host/` share depth, so this finds `dist/wasm/` from either; a bundler that
  // moves this module must pass `url` (or copy the file where this resolves).
  const at = url ?? new URL(`../../${WASM_FILES[flavor].file}`, import.meta.url);
  const res = await fetch(at);
  if (!res.ok) {
    throw new ConfigError(
      [
        `fetching the WASM kernels from ${String(at)} failed (HTTP ${res.status}); pass loadWasm({ url }) where the page serves kernels.wasm`,
      ],
      { url: String(at) },
    );
  }
  return new Uint8Array(await res.arrayBuffer());
}

interface BrowserGlobals {
  readonly document?: unknown;
  readonly crossOriginIsolated?: boolean;
  readonly Worker?: new (
    url: string,
  ) => {
    postMessage(data: unknown): void;
    terminate(): void;
  };
  readonly Blob?: new (parts: string[], options: { type: string }) => object;
  readonly URL: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
}
const g = globalThis as unknown as BrowserGlobals;

function startHelper(body: string, data: HelperData): HelperThread {
  if (!g.Worker || !g.Blob)
    throw new ConfigError(["this browser context cannot start Web Workers; use threads: 1"], {});
  // The helper receives its data as the first message (modules and shared memory clone to workers).
  const src = `onmessage = (e) => { onmessage = null; (function (workerData) {${body}})(e.data); };`;
  const url = g.URL.createObjectURL(new g.Blob([src], { type: "text/javascript" }));
  const worker = new g.Worker(url);
  worker.postMessage(data);
  return {
    terminate: () => {
      worker.terminate();
      g.URL.revokeObjectURL(url);
    },
  };
}

/** The browser's implementation of the seam. */
export const host: Host = {
  name: "browser",
  readFile: (path) =>
    noFiles("reading a file", path, "fetch the bytes and pass them to readSafetensors/readGguf/readNpy"),
  writeFileAtomic: (path) =>
    noFiles(
      "writing a file",
      path,
      "use writeSafetensors/writeGguf/writeNpy and offer the bytes as a download",
    ),
  openFile: (path): FileReader =>
    noFiles("opening a file", path, "fetch the bytes and call parseGgufHeader(bytes)"),
  wasmBytes: () => {
    throw new ConfigError(
      [
        "in a browser the WASM kernels load asynchronously: `await loadWasm()` (or loadWasm({ url })) before using the WASM backend",
      ],
      {},
    );
  },
  fetchWasmBytes,
  // Atomics.wait is forbidden on a page's main thread, and workers share memory only when the page is
  // cross-origin isolated (COOP/COEP headers); elsewhere the runtime runs every job on this thread.
  helpersAllowed: () => g.document === undefined && g.crossOriginIsolated === true,
  startHelper,
  // A page cannot change its engine's flags: relaxed SIMD works where the browser ships it (Chrome 114+).
  enableRelaxedSimd: () => false,
  wasmFlavorFromEnv: () => undefined,
};
