/**
 * Finds, (re)builds when needed, validates and caches the compiled WASM kernels module
 * (`dist/wasm/kernels.wasm`, built by `asc` in `pnpm build` from `assembly/`). Not here: instances,
 * memory or threads (runtime.ts).
 *
 * Where the bytes come from: `src/wasm/` and `dist/wasm/` sit at the same depth in the package, so one
 * relative URL finds `dist/wasm/kernels.wasm` both from sources (tests, typecheck, benches under the
 * `@tradeoffs/source` condition) and from the built package. In a source checkout (`assembly/` present
 * beside `src/`), a missing or stale module (older than any `assembly/*.ts`) is compiled on first use
 * with the package's own `asc` (one synchronous ~3 s step, written atomically), so `vitest run` works
 * from a clean clone without `pnpm build`. Nothing generated is committed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
import { type WasmModule, webAssembly } from "./wasm-api.js";

/** Which compiled variant to load: plain SIMD (default) or relaxed-SIMD FMA (opt-in). */
export type WasmFlavor = "simd" | "relaxed";

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FILES: Record<WasmFlavor, { file: string; target: string }> = {
  simd: { file: "dist/wasm/kernels.wasm", target: "release" },
  relaxed: { file: "dist/wasm/kernels-relaxed.wasm", target: "relaxed" },
};

const modules = new Map<WasmFlavor, WasmModule>();
const failures = new Map<WasmFlavor, string>();

/** Newest modification time of the AssemblyScript sources, or 0 outside a source checkout. */
function sourcesMtime(): number {
  const dir = join(PACKAGE_ROOT, "assembly");
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const f of readdirSync(dir)) {
    if (f.endsWith(".ts") || f.endsWith(".json")) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  }
  return newest;
}

/** Compile `assembly/` with asc into `file` (via a temp file + rename, safe under parallel tests). */
function compile(flavor: WasmFlavor, file: string): void {
  const require = createRequire(import.meta.url);
  let asc: string;
  try {
    asc = join(require.resolve("assemblyscript/package.json"), "..", "bin", "asc.js");
  } catch {
    throw new ConfigError(
      [
        `the WASM kernels (${FILES[flavor].file}) are not built and the AssemblyScript compiler is not installed; run \`pnpm build\` in packages/core-tensor`,
      ],
      { file },
    );
  }
  const tmp = `${file}.${process.pid}.tmp`;
  const run = spawnSync(
    process.execPath,
    [
      asc,
      "assembly/index.ts",
      "--config",
      "assembly/asconfig.json",
      "--target",
      FILES[flavor].target,
      "--outFile",
      tmp,
    ],
    { cwd: PACKAGE_ROOT, encoding: "utf8" },
  );
  if (run.status !== 0) {
    throw new ConfigError([`compiling the WASM kernels failed:\n${run.stderr || run.stdout}`], { file });
  }
  renameSync(tmp, file);
}

/** The module's bytes, compiling them first in a source checkout when missing or stale. */
export function wasmBytes(flavor: WasmFlavor = "simd"): Uint8Array {
  const file = join(PACKAGE_ROOT, FILES[flavor].file);
  const src = sourcesMtime();
  if (!existsSync(file) || (src > 0 && statSync(file).mtimeMs < src)) {
    if (src === 0) {
      throw new ConfigError([`the WASM kernels file ${file} is missing; reinstall @tradeoffs/core-tensor`], {
        file,
      });
    }
    compile(flavor, file);
  }
  return readFileSync(file);
}

/** The compiled module (cached per flavor). Throws a ConfigError saying why when unavailable. */
export function wasmModule(flavor: WasmFlavor = "simd"): WasmModule {
  const cached = modules.get(flavor);
  if (cached) return cached;
  const failed = failures.get(flavor);
  if (failed !== undefined) throw new ConfigError([failed], { flavor });
  try {
    if (!webAssembly || typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined") {
      throw new ConfigError(
        [
          "WASM backend needs WebAssembly, SharedArrayBuffer and Atomics (cross-origin isolation in browsers); use the JS backend",
        ],
        { flavor },
      );
    }
    const bytes = wasmBytes(flavor);
    if (!webAssembly.validate(bytes)) {
      throw new ConfigError(
        [
          `this runtime cannot run the WASM kernels (needs WebAssembly SIMD and threads${
            flavor === "relaxed" ? ", and relaxed SIMD: node --experimental-wasm-relaxed-simd" : ""
          }); use the JS backend`,
        ],
        { flavor },
      );
    }
    const mod = new webAssembly.Module(bytes);
    modules.set(flavor, mod);
    return mod;
  } catch (e) {
    failures.set(flavor, e instanceof Error ? e.message : String(e));
    throw e;
  }
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
