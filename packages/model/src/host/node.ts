/**
 * The Node side of the model package's platform seam: `node:fs`, `node:path`, `node:os` and package
 * resolution. Selected by the `#host` import's `node`/default condition; browser.ts is the other side.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ModelHost } from "./host.js";

/** Node's implementation of the seam. */
export const host: ModelHost = {
  name: "node",
  readText: (path) => readFileSync(path, "utf8"),
  exists: (path) => existsSync(path),
  isDirectory: (path) => statSync(path).isDirectory(),
  fileSize: (path) => statSync(path).size,
  listDir: (path) => readdirSync(path),
  join,
  packageDir: (name) => dirname(createRequire(import.meta.url).resolve(`${name}/package.json`)),
  // `src/host/` and `dist/host/` share depth: both find the package's `weights/`.
  weightsDir: fileURLToPath(new URL("../../weights", import.meta.url)),
  totalMemory: () => ({ bytes: totalmem(), source: "os.totalmem() of this machine" }),
  cpuTimes: () => {
    const all = cpus();
    let busyMs = 0;
    for (const c of all) busyMs += c.times.user + c.times.nice + c.times.sys + c.times.irq;
    const own = process.cpuUsage();
    return { busyMs, ownMs: (own.user + own.system) / 1000, cores: all.length };
  },
};
