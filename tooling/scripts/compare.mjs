#!/usr/bin/env node
// `pnpm compare …`: build the compare app and what it depends on (turbo, cached), then run its CLI
// with the given arguments. The build is silent unless it fails (then its log goes to stderr), so
// stdout carries only the CLI's output: `pnpm -s compare … --json | jq` works.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { silentBuild } from "./silent-build.mjs";

const root = join(import.meta.dirname, "..", "..");
silentBuild("@tradeoffs/compare...", "compare", "nothing was run");
const cli = spawnSync(process.execPath, [join(root, "apps/compare/dist/cli.js"), ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(cli.status ?? 1);
