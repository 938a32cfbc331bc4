#!/usr/bin/env node
// `pnpm compare …`: build the compare app and what it depends on (turbo, cached), then run its CLI
// (the one-module bundle the build makes) with the given arguments, in the Node process
// apps/compare/bin/measured-node.js describes. The build is silent unless it fails (then its log
// goes to stderr), so stdout carries only the CLI's output: `pnpm -s compare … --json | jq` works.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { MEASURED_NODE_FLAGS, measuredEnv } from "../../apps/compare/bin/measured-node.js";
import { silentBuild } from "./silent-build.mjs";

const root = join(import.meta.dirname, "..", "..");
silentBuild("@tradeoffs/compare...", "compare", "nothing was run");
const cli = spawnSync(
  process.execPath,
  [...MEASURED_NODE_FLAGS, join(root, "apps/compare/dist/cli.bundle.js"), ...process.argv.slice(2)],
  { stdio: "inherit", env: measuredEnv() },
);
process.exit(cli.status ?? 1);
