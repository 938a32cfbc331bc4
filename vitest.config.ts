import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";
import type { Reporter } from "vitest/reporters";

// Every workspace directory that has its own vitest.config.ts is a test project (vitest 4 ignores
// vitest.workspace.ts). Listing them explicitly keeps directories without a config from being
// picked up as projects with default settings.
const projects = ["packages", "apps", "tooling"].flatMap((group) =>
  existsSync(group)
    ? readdirSync(group, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(join(group, entry.name, "vitest.config.ts")))
        .map((entry) => `${group}/${entry.name}/vitest.config.ts`)
    : [],
);
// The README examples run as plain JavaScript against the built packages (examples/test).
if (existsSync("examples/vitest.config.ts")) projects.push("examples/vitest.config.ts");

// VITEST_JSON_OUT=<file> adds a JSON report next to the usual console output (used by .ci/run).
const jsonOut = process.env.VITEST_JSON_OUT;
const reporters: (string | Reporter | [string, Record<string, unknown>])[] | undefined = jsonOut
  ? ["default", ["json", { outputFile: jsonOut }]]
  : undefined;

export default defineConfig({
  test: {
    projects,
    ...(reporters ? { reporters } : {}),
    // Fail rather than pass silently when a filter or a broken glob matches nothing.
    passWithNoTests: false,
  },
});
