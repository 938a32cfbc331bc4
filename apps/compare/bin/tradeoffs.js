#!/usr/bin/env node
// The `tradeoffs` command, the package's only bin (so `npx @tradeoffs/compare …` runs it): runs the
// compare CLI built in ../dist. It only locates the build and says how to make it when missing; the
// CLI itself is src/cli.ts.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    "tradeoffs: the compare app is not built; run `pnpm turbo run build --filter=@tradeoffs/compare...` (or `pnpm -s compare …`, which builds first)\n",
  );
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
