#!/usr/bin/env node
// `pnpm compare …`: build the compare app and what it depends on (turbo, cached), then run its CLI
// with the given arguments. The build is silent unless it fails (then its log goes to stderr), so
// stdout carries only the CLI's output: `pnpm -s compare … --json | jq` works.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const build = spawnSync(
  "pnpm",
  ["exec", "turbo", "run", "build", "--output-logs=errors-only", "--filter=@tradeoffs/compare..."],
  {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { TURBO_TELEMETRY_DISABLED: "1", ...process.env },
  },
);
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ""}${build.stderr ?? ""}`);
  process.stderr.write(`compare: the build failed (exit ${build.status ?? build.signal}); nothing was run\n`);
  process.exit(1);
}
const cli = spawnSync(process.execPath, [join(root, "apps/compare/dist/cli.js"), ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(cli.status ?? 1);
