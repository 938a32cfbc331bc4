/**
 * The Node side of the model package's platform seam: `node:fs`, `node:path`, `node:os` and package
 * resolution. Selected by the `#host` import's `node`/default condition; browser.ts is the other side.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import type { ModelHost } from "./host.js";

/**
 * Resolves from this package's directory, found by its name rather than by this file's place in it,
 * so that code bundled into one file elsewhere (the compare CLI's `dist/cli.bundle.js`) finds the
 * same `weights/` and the same dependencies (the corpus).
 */
const fromPackage = createRequire(createRequire(import.meta.url).resolve("@tradeoffs/model/package.json"));

/** The directory of a package installed for this one (or of this one). */
function packageDir(name: string): string {
  return dirname(fromPackage.resolve(`${name}/package.json`));
}

/** Node's implementation of the seam. */
export const host: ModelHost = {
  name: "node",
  readText: (path) => readFileSync(path, "utf8"),
  exists: (path) => existsSync(path),
  isDirectory: (path) => statSync(path).isDirectory(),
  fileSize: (path) => statSync(path).size,
  listDir: (path) => readdirSync(path),
  join,
  packageDir,
  weightsDir: join(packageDir("@tradeoffs/model"), "weights"),
  totalMemory: () => ({ bytes: totalmem(), source: "os.totalmem() of this machine" }),
  cpuTimes: () => {
    const all = cpus();
    let busyMs = 0;
    for (const c of all) busyMs += c.times.user + c.times.nice + c.times.sys + c.times.irq;
    const own = process.cpuUsage();
    return { busyMs, ownMs: (own.user + own.system) / 1000, cores: all.length };
  },
};
