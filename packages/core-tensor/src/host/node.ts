/**
 * The Node side of the platform seam: files through `node:fs`, the WASM kernels read from
 * `dist/wasm/` (compiled on first use in a source checkout), helpers as `worker_threads`. Selected by
 * the `#host` import's `node`/default condition; browser.ts is the other side.
 *
 * Where the kernels come from: `src/host/` and `dist/host/` sit at the same depth in the package, so one
 * relative URL finds `dist/wasm/kernels.wasm` both from sources (tests, typecheck, benches under the
 * `@tradeoffs/source` condition) and from the built package. In a source checkout (`assembly/` present
 * beside `src/`), a missing or stale module (older than any `assembly/*.ts`) is compiled on first use
 * with the package's own `asc` (one synchronous ~3 s step, written atomically), so `vitest run` works
 * from a clean clone without `pnpm build`. Nothing generated is committed.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import { ConfigError } from "../errors.js";
import {
  type FileReader,
  type HelperData,
  type HelperThread,
  type Host,
  WASM_FILES,
  WASM_FLAVOR_ENV,
  type WasmFlavor,
} from "./host.js";

/**
 * The package's directory (its `dist/wasm/` kernels, and `assembly/` in a source checkout), found by
 * the package's name rather than by this file's place in it, so that code bundled into one file
 * elsewhere (the compare CLI's `dist/cli.bundle.js`) finds the same files.
 */
const PACKAGE_ROOT = dirname(createRequire(import.meta.url).resolve("@tradeoffs/core-tensor/package.json"));

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
  const require = createRequire(join(PACKAGE_ROOT, "package.json")); // the package's own devDependency
  let asc: string;
  try {
    asc = join(require.resolve("assemblyscript/package.json"), "..", "bin", "asc.js");
  } catch {
    throw new ConfigError(
      [
        `the WASM kernels (${WASM_FILES[flavor].file}) are not built and the AssemblyScript compiler is not installed; run \`pnpm build\` in packages/core-tensor`,
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
      WASM_FILES[flavor].target,
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

function wasmBytes(flavor: WasmFlavor): Uint8Array {
  const file = join(PACKAGE_ROOT, WASM_FILES[flavor].file);
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

function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function openFile(path: string): FileReader {
  const fd = openSync(path, "r");
  return {
    size: fstatSync(fd).size,
    read(position, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const r = readSync(fd, buf, got, length - got, position + got);
        if (r === 0) break;
        got += r;
      }
      return buf.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
}

function startHelper(body: string, data: HelperData): HelperThread {
  const worker = new Worker(`(function (workerData) {${body}})(require("node:worker_threads").workerData);`, {
    eval: true,
    workerData: data,
  });
  // Never keep the process alive for an idle helper.
  worker.unref();
  return { terminate: () => void worker.terminate() };
}

/** The V8 flag that makes Node 20–21 (V8 11.x) validate relaxed-SIMD opcodes; Node ≥ 22 has them on. */
const RELAXED_SIMD_FLAG = "--experimental-wasm-relaxed-simd";
let relaxedFlagSet = false;

/**
 * Set V8's relaxed-SIMD flag for this whole process (a documented side effect of choosing the
 * `relaxed` flavor). Modules compiled after this validate relaxed opcodes; worker threads share the
 * flag. Returns false when it was set already (nothing more to try).
 */
function enableRelaxedSimd(): boolean {
  if (relaxedFlagSet) return false;
  relaxedFlagSet = true;
  setFlagsFromString(RELAXED_SIMD_FLAG);
  return true;
}

/** Node's implementation of the seam. */
export const host: Host = {
  name: "node",
  readFile: (path) => new Uint8Array(readFileSync(path)),
  writeFileAtomic,
  openFile,
  wasmBytes,
  async fetchWasmBytes(flavor, url) {
    if (url === undefined) return wasmBytes(flavor);
    const u = new URL(url);
    if (u.protocol === "file:") return new Uint8Array(readFileSync(u));
    const res = await fetch(u);
    if (!res.ok)
      throw new ConfigError([`fetching the WASM kernels from ${u} failed: HTTP ${res.status}`], {
        url: String(u),
      });
    return new Uint8Array(await res.arrayBuffer());
  },
  // Node's main thread may block in Atomics.wait, and worker_threads share memory without conditions.
  helpersAllowed: () => true,
  startHelper,
  enableRelaxedSimd,
  wasmFlavorFromEnv: () => process.env[WASM_FLAVOR_ENV],
};
