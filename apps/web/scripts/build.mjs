// Builds the static page into apps/web/dist: esbuild bundles the page (src/main.ts) and its worker
// (src/runner.ts) for browsers from the packages' TypeScript sources (the `@tradeoffs/source` and
// `browser` conditions, so core-tensor's and model's `#host` resolve to their browser sides), and the
// page's files, the WASM kernels and the shipped small weights are copied beside them.
// Usage: node scripts/build.mjs   (from apps/web; `pnpm web` runs it through turbo)
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const require = createRequire(join(root, "package.json"));
const packageDir = (name) => dirname(require.resolve(`@tradeoffs/${name}/package.json`));

// The kernels: in a source checkout core-tensor compiles a missing or stale module on first use.
const check = spawnSync(
  process.execPath,
  [
    "--conditions=@tradeoffs/source",
    "--import",
    "tsx",
    "--input-type=module",
    "-e",
    'const m = await import("@tradeoffs/core-tensor"); if (!m.wasmAvailable()) { console.error(m.wasmUnavailableReason()); process.exit(1); }',
  ],
  { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
);
if (check.status !== 0) process.exit(check.status ?? 1);

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: { main: join(root, "src/main.ts"), runner: join(root, "src/runner.ts") },
  outdir: dist,
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  conditions: ["@tradeoffs/source"],
  sourcemap: true,
  minify: true,
  logLevel: "warning",
});
cpSync(join(root, "static"), dist, { recursive: true });
copyFileSync(join(packageDir("core-tensor"), "dist/wasm/kernels.wasm"), join(dist, "kernels.wasm"));
for (const f of ["small.safetensors", "small.json"])
  copyFileSync(join(packageDir("model"), "weights", f), join(dist, f));
process.stderr.write(`web: built ${dist}\n`);
