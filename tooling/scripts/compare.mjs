#!/usr/bin/env node
// `pnpm compare …`: build the compare app and what it depends on (turbo, cached), then run its CLI
// with the given arguments. The build is silent unless it fails (then its log goes to stderr), so
// stdout carries only the CLI's output: `pnpm -s compare … --json | jq` works.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { silentBuild } from "./silent-build.mjs";

const root = join(import.meta.dirname, "..", "..");
// A measured run makes and drops many short-lived tensors: with V8's default 16 MiB semi-space many
// of them survive into the old space and are freed by full collections. A 32 MiB one cut the default
// suite's full collections 355 → 122 and its GC pauses 5.7 s → 4.7 s (`node --trace-gc`, busy
// 2-core machine); bytes, quality and projections are unchanged.
const V8_FLAGS = ["--max-semi-space-size=32"];
silentBuild("@tradeoffs/compare...", "compare", "nothing was run");
const cli = spawnSync(
  process.execPath,
  [...V8_FLAGS, join(root, "apps/compare/dist/cli.js"), ...process.argv.slice(2)],
  { stdio: "inherit" },
);
process.exit(cli.status ?? 1);
