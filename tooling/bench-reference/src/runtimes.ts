/**
 * On-demand install of the benchmark reference runtimes (tfjs-wasm, onnxruntime-node; ~300 MB) into
 * a cache directory, so that a plain `pnpm install` never fetches them. Only `pnpm bench` calls this;
 * it is not a package manager: versions are pinned by runtimes/package.json and its lockfile.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const manifestDir = join(here, "..", "runtimes");
const repoRoot = resolve(here, "..", "..", "..");

/** Where the runtimes live: `TRADEOFFS_BENCH_CACHE`, else `node_modules/.cache/tradeoffs-bench` at the repo root. */
export function runtimesDir(): string {
  return process.env.TRADEOFFS_BENCH_CACHE ?? join(repoRoot, "node_modules", ".cache", "tradeoffs-bench");
}

/** The pinned reference packages and versions (runtimes/package.json). */
export function pinnedRuntimes(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(manifestDir, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  return manifest.dependencies;
}

/** The pinned packages that are absent from the cache or installed at another version. */
export function missingRuntimes(dir = runtimesDir()): string[] {
  return Object.entries(pinnedRuntimes())
    .filter(([name, version]) => {
      const file = join(dir, "node_modules", name, "package.json");
      if (!existsSync(file)) return true;
      return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version !== version;
    })
    .map(([name, version]) => `${name}@${version}`);
}

/** Raised when the on-demand install fails; the benches report it and skip the reference rows. */
export class RuntimeInstallError extends Error {
  constructor(
    readonly dir: string,
    readonly status: number | null,
  ) {
    super(
      `installing the benchmark reference runtimes into ${dir} failed (npm ci exit ${status ?? "signal"}); ` +
        "run `pnpm bench matmul` again with registry access, or pass --no-ref to skip the reference rows",
    );
    this.name = "RuntimeInstallError";
  }
}

/**
 * Installs the pinned runtimes when any is missing (`npm ci` from the committed lockfile, install
 * scripts off: onnxruntime-node's postinstall would fetch GPU binaries from outside the registry and
 * its CPU binaries are in the tarball). Progress goes to stderr so `--json` stdout stays clean.
 * Returns a `require` rooted in the cache directory.
 */
export function ensureRuntimes(): NodeJS.Require {
  const dir = runtimesDir();
  const missing = missingRuntimes(dir);
  if (missing.length > 0) {
    const shown = relative(process.cwd(), dir) || dir;
    process.stderr.write(
      `bench: reference runtimes not installed (${missing.join(", ")}); installing them once into ${shown} ` +
        "(about 300 MB, npm ci from tooling/bench-reference/runtimes; --no-ref skips the reference rows)\n",
    );
    mkdirSync(dir, { recursive: true });
    for (const f of ["package.json", "package-lock.json"]) copyFileSync(join(manifestDir, f), join(dir, f));
    const t0 = performance.now();
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const r = spawnSync(npm, ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: dir,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
      stdio: ["ignore", process.stderr, process.stderr],
    });
    if (r.status !== 0) throw new RuntimeInstallError(dir, r.status);
    process.stderr.write(
      `bench: reference runtimes installed in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
    );
  }
  return createRequire(join(dir, "package.json"));
}
