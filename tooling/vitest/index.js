// Shared Vitest settings for every workspace project. Plain ESM JavaScript on purpose: Vite loads
// config files with Node, and Node 20 cannot import a linked workspace package's .ts sources.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineProject, mergeConfig } from "vitest/config";

/** Export condition under which workspace packages resolve to their TypeScript sources. */
export const SOURCE_CONDITION = "@tradeoffs/source";

// Setting `resolve.conditions` replaces Vite's defaults, so repeat them (Vite 6+ defaults).
const CLIENT_CONDITIONS = [SOURCE_CONDITION, "module", "browser", "development|production"];
const SERVER_CONDITIONS = [SOURCE_CONDITION, "module", "node", "development|production"];

/**
 * Vitest project config for a workspace package.
 *
 * @param {string} importMetaUrl `import.meta.url` of the package's vitest.config.ts
 * @param {import("vitest/config").UserWorkspaceConfig} [overrides] merged over the defaults
 */
export function tradeoffsProject(importMetaUrl, overrides = {}) {
  const root = dirname(fileURLToPath(importMetaUrl));
  let name = root.split(/[\\/]/).pop() ?? "project";
  try {
    name = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).name ?? name;
  } catch {
    // no package.json: keep the directory name
  }
  /** @type {import("vitest/config").UserWorkspaceConfig} */
  const base = {
    root,
    resolve: { conditions: CLIENT_CONDITIONS },
    ssr: { resolve: { conditions: SERVER_CONDITIONS, externalConditions: [SOURCE_CONDITION] } },
    test: {
      name,
      root,
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      pool: "forks",
      testTimeout: 60_000,
      hookTimeout: 60_000,
      // Externalised modules are loaded by Node itself: let it see the source condition too.
      execArgv: [`--conditions=${SOURCE_CONDITION}`],
    },
  };
  return defineProject(mergeConfig(base, overrides));
}
