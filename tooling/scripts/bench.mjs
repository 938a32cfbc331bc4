#!/usr/bin/env node
// pnpm bench [<name>] [args...]
// Finds bench/<name>.ts in packages/* and apps/*, builds the workspace once (turbo, cached), then runs
// each match with `node --conditions=@tradeoffs/source --import tsx <file> [args...]` from its package
// directory. No name: runs every bench. Unknown name: lists the available benches, exits 2.
// Extra arguments (e.g. --json) are passed through to each bench script.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

function findBenches() {
  const benches = [];
  for (const group of ["packages", "apps"]) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const pkg of readdirSync(groupDir, { withFileTypes: true })) {
      if (!pkg.isDirectory()) continue;
      const benchDir = join(groupDir, pkg.name, "bench");
      if (!existsSync(benchDir)) continue;
      for (const file of readdirSync(benchDir, { withFileTypes: true })) {
        if (file.isFile() && file.name.endsWith(".ts") && !file.name.endsWith(".d.ts")) {
          benches.push({
            name: file.name.slice(0, -".ts".length),
            file: join(benchDir, file.name),
            cwd: join(groupDir, pkg.name),
          });
        }
      }
    }
  }
  return benches.sort((a, b) => a.name.localeCompare(b.name) || a.file.localeCompare(b.file));
}

function printList(benches, stream) {
  if (benches.length === 0) {
    stream.write("No benches found (looked for packages/*/bench/*.ts and apps/*/bench/*.ts).\n");
    return;
  }
  stream.write("Available benches:\n");
  for (const b of benches) stream.write(`  ${b.name.padEnd(24)} ${relative(root, b.file)}\n`);
}

const argv = process.argv.slice(2);
const benches = findBenches();
const name = argv[0] !== undefined && !argv[0].startsWith("-") ? argv[0] : undefined;
const passThrough = name === undefined ? argv : argv.slice(1);

if (argv.includes("--help") || argv.includes("-h") || name === "list") {
  process.stdout.write("Usage: pnpm bench [<name>] [--json] [args...]\n");
  printList(benches, process.stdout);
  process.exit(0);
}

const selected = name === undefined ? benches : benches.filter((b) => b.name === name);
if (name === undefined && selected.length === 0) {
  printList(benches, process.stdout);
  process.exit(0);
}
if (selected.length === 0) {
  if (name !== undefined) process.stderr.write(`Unknown bench "${name}".\n`);
  printList(benches, process.stderr);
  process.exit(2);
}

const pnpm = process.platform === "win32" ? "pnpm.cmd" : "pnpm";
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };
// Build output goes to stderr so that `--json` output on stdout stays machine-readable.
const build = spawnSync(pnpm, ["turbo", "run", "build", "--output-logs=errors-only"], {
  cwd: root,
  env,
  stdio: ["ignore", process.stderr, "inherit"],
});
if (build.status !== 0) {
  process.stderr.write("bench: build failed\n");
  process.exit(build.status ?? 1);
}

let failed = 0;
for (const b of selected) {
  if (selected.length > 1) process.stderr.write(`\n== bench ${b.name} (${relative(root, b.file)})\n`);
  const run = spawnSync(
    process.execPath,
    ["--conditions=@tradeoffs/source", "--import", "tsx", b.file, ...passThrough],
    { cwd: b.cwd, env, stdio: "inherit" },
  );
  if (run.status !== 0) {
    failed++;
    process.stderr.write(`bench ${b.name} failed (exit ${run.status ?? run.signal})\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
