#!/usr/bin/env node
// `pnpm check:packages`: lint every published package (packages/*, not private) as a consumer
// receives it: publint (package.json vs the packed files) and arethetypeswrong (types resolve for each
// entry point under ESM resolution). Builds first. Not a test of behaviour, only of packaging.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

const dirs = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => join("packages", d.name))
  .filter((dir) => {
    const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
    return pkg.private !== true;
  });

run("pnpm", ["turbo", "run", "build", "--output-logs=errors-only", ...dirs.map((d) => `--filter=./${d}`)]);

const failed = [];
for (const dir of dirs) {
  for (const [tool, args] of [
    // --strict: warnings (e.g. a missing field or an unreachable file) fail the check too.
    ["publint", [dir, "--strict"]],
    // ESM-only packages: the CJS `require` column is expected to be "ESM (dynamic import only)".
    ["attw", ["--pack", dir, "--profile", "esm-only", "--format", "table-flipped"]],
  ]) {
    try {
      run(bin(tool), args);
    } catch {
      failed.push(`${tool} ${dir}`);
    }
  }
}
if (failed.length > 0) {
  console.error(`check:packages failed: ${failed.join(", ")}`);
  process.exit(1);
}
console.error(`check:packages: ${dirs.length} packages pass publint --strict and attw (esm-only)`);
