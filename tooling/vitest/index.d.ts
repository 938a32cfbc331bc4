import type { UserWorkspaceConfig } from "vitest/config";

/** Export condition under which workspace packages resolve to their TypeScript sources. */
export declare const SOURCE_CONDITION: "@tradeoffs/source";

/**
 * Vitest project config for a workspace package: `export default tradeoffsProject(import.meta.url)`.
 * Sets the project name from package.json, `resolve.conditions`/`ssr.resolve.conditions` to
 * "@tradeoffs/source" first, pool "forks", 60 s test and hook timeouts, and includes
 * `src/**\/*.test.ts` and `test/**\/*.test.ts`.
 */
export declare function tradeoffsProject(
  importMetaUrl: string,
  overrides?: UserWorkspaceConfig,
): UserWorkspaceConfig;
