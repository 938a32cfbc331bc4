/**
 * The chart libraries the report inlines: the browser builds of vega, vega-lite and vega-embed,
 * found in node_modules and read once. Nothing is fetched from a network.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { inlineScript } from "./escape.js";

const LIBRARIES = [
  { pkg: "vega", file: "build/vega.min.js" },
  { pkg: "vega-lite", file: "build/vega-lite.min.js" },
  { pkg: "vega-embed", file: "build/vega-embed.min.js" },
] as const;

export interface Library {
  readonly name: string;
  readonly version: string;
  readonly code: string;
}

/**
 * The path of a file inside a package. `require.resolve("pkg/file")` where the package allows it;
 * vega-embed's `exports` map hides its build files, so otherwise walk up from the package's entry
 * point to the folder whose package.json names the package and that holds the file (vega-lite also
 * ships a copy of its package.json inside build/, hence the second check).
 */
function packageFile(require: NodeJS.Require, pkg: string, file: string): { path: string; version: string } {
  const versionAt = (dir: string): string | undefined => {
    try {
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      return json.name === pkg ? json.version : undefined;
    } catch {
      return undefined;
    }
  };
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    const version = versionAt(dir);
    if (version !== undefined && existsSync(join(dir, file))) return { path: join(dir, file), version };
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`renderHtmlReport: cannot find ${pkg}/${file} (is ${pkg} installed?)`);
    dir = parent;
  }
}

let libraryCache: readonly Library[] | undefined;

/** The browser builds of vega, vega-lite and vega-embed, read once from node_modules. */
export function chartLibraries(): readonly Library[] {
  if (libraryCache) return libraryCache;
  const require = createRequire(import.meta.url);
  libraryCache = LIBRARIES.map(({ pkg, file }) => {
    const { path, version } = packageFile(require, pkg, file);
    return { name: pkg, version, code: inlineScript(readFileSync(path, "utf8")) };
  });
  return libraryCache;
}
