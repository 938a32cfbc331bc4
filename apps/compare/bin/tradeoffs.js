#!/usr/bin/env node
// The `tradeoffs` command, the package's only bin (so `npx @tradeoffs/compare …` runs it): runs the
// compare CLI built in ../dist (bundled into one module by scripts/bundle.mjs), in the Node process
// `pnpm compare` measures in (measured-node.js: it relaunches itself once with those V8 flags and that
// environment, the caller's own Node flags kept after them). It only locates the build and says how
// to make it when missing; the CLI itself is src/cli.ts.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MEASURED_NODE_FLAGS, MEASURED_NODE_MARK, measuredEnv } from "./measured-node.js";

const cli = new URL("../dist/cli.bundle.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    "tradeoffs: the compare app is not built; run `pnpm turbo run build --filter=@tradeoffs/compare...` (or `pnpm -s compare …`, which builds first)\n",
  );
  process.exit(1);
}
if (process.env[MEASURED_NODE_MARK] !== "1") {
  const child = spawnSync(
    process.execPath,
    [...MEASURED_NODE_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit", env: { ...measuredEnv(), [MEASURED_NODE_MARK]: "1" } },
  );
  // Could not start a second Node (a locked-down sandbox): run here, as before.
  if (!child.error) {
    if (child.signal) process.kill(process.pid, child.signal);
    process.exit(child.status ?? 1);
  }
}
const { main, exitQuietlyOnClosedStdout } = await import(cli.href);
exitQuietlyOnClosedStdout();
process.exitCode = await main(process.argv.slice(2));
