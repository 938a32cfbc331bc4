/**
 * The browser side of the model package's platform seam: no file system. Readers of paths throw a
 * ConfigError naming what to do instead (pass bytes or parsed JSON); `exists` is always false, so
 * "is it shipped?" questions answer no rather than fail.
 */
import { ConfigError } from "@tradeoffs/core-tensor";
import type { HostMemory, ModelHost } from "./host.js";

function noFiles(what: string, path: string): never {
  throw new ConfigError(
    [
      `${what} '${path}' needs a file system, which a browser does not have; fetch or upload the file and pass its contents (e.g. hfModelFromConfig(JSON.parse(text)), readSafetensors(bytes))`,
    ],
    { path },
  );
}

const nav = (globalThis as { navigator?: { deviceMemory?: number } }).navigator;

/** The browser's implementation of the seam. */
export const host: ModelHost = {
  name: "browser",
  readText: (path) => noFiles("reading", path),
  exists: () => false,
  isDirectory: (path) => noFiles("inspecting", path),
  fileSize: (path) => noFiles("sizing", path),
  listDir: (path) => noFiles("listing", path),
  join: (...parts) => parts.join("/").replace(/\/{2,}/g, "/"),
  packageDir: (name) => noFiles("locating the package", name),
  weightsDir: "weights",
  totalMemory: (): HostMemory | undefined =>
    // navigator.deviceMemory: GiB, rounded and capped by the browser (Chromium only).
    nav?.deviceMemory
      ? { bytes: nav.deviceMemory * 2 ** 30, source: "navigator.deviceMemory (rounded)" }
      : undefined,
  // Pages see neither the machine's CPU counters nor their own process's.
  cpuTimes: () => undefined,
};
