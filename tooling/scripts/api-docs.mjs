#!/usr/bin/env node
// `pnpm api:docs [--no-build] [--check]`: the API reference in docs/api. Builds the published packages (turbo,
// cached), writes each one's doc model (temp/<name>.api.json) with API Extractor, reports left
// untouched (`pnpm api` owns etc/*.api.md), then renders markdown with api-documenter and prints how
// many items lack a TSDoc summary. Progress goes to stderr. `--check` renders into a temporary folder
// instead and fails, naming the pages, when docs/api differs from it (`pnpm test` runs this).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import apiExtractor from "@microsoft/api-extractor";
import { docModels } from "./api-undocumented.mjs";

const { Extractor, ExtractorConfig } = apiExtractor;
const root = join(import.meta.dirname, "..", "..");
const committed = join(root, "docs", "api");
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "tradeoffs-api-docs-")) : committed;
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: ["ignore", check ? "ignore" : process.stderr, "inherit"],
  });
  if (r.status !== 0) {
    console.error(`api:docs: ${cmd} ${args.join(" ")} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
};

const dirs = readdirSync(join(root, "packages"))
  .sort()
  .map((d) => join(root, "packages", d))
  .filter((d) => existsSync(join(d, "api-extractor.json")))
  .filter((d) => JSON.parse(readFileSync(join(d, "package.json"), "utf8")).private !== true);

if (!process.argv.includes("--no-build"))
  run("pnpm", ["turbo", "run", "build", "--filter=./packages/*", "--output-logs=errors-only"]);

const models = mkdtempSync(join(tmpdir(), "tradeoffs-api-"));
try {
  for (const dir of dirs) {
    const configFile = join(dir, "api-extractor.json");
    const configObject = ExtractorConfig.loadFile(configFile);
    // The report is `pnpm api`'s job; here only the doc model is wanted.
    configObject.apiReport = { ...configObject.apiReport, enabled: false };
    const config = ExtractorConfig.prepare({
      configObject,
      configObjectFullPath: configFile,
      packageJsonFullPath: join(dir, "package.json"),
    });
    const result = Extractor.invoke(config, { localBuild: true, showVerboseMessages: false });
    if (!result.succeeded || !existsSync(config.apiJsonFilePath)) {
      console.error(`api:docs: API Extractor failed for ${dir} (${result.errorCount} errors)`);
      process.exit(1);
    }
    copyFileSync(config.apiJsonFilePath, join(models, config.apiJsonFilePath.split(/[\\/]/).pop()));
  }
  rmSync(out, { recursive: true, force: true });
  run(join(root, "node_modules", ".bin", "api-documenter"), ["markdown", "-i", models, "-o", out]);
} finally {
  rmSync(models, { recursive: true, force: true });
}

if (check) {
  const pages = (dir) => (existsSync(dir) ? readdirSync(dir).sort() : []);
  const want = pages(out);
  const have = pages(committed);
  const stale = [...new Set([...want, ...have])].filter(
    (f) =>
      !want.includes(f) ||
      !have.includes(f) ||
      !readFileSync(join(out, f)).equals(readFileSync(join(committed, f))),
  );
  rmSync(out, { recursive: true, force: true });
  if (stale.length > 0) {
    console.error(
      `api:docs --check: docs/api is stale in ${stale.length} pages (${stale.slice(0, 5).join(", ")}${stale.length > 5 ? ", …" : ""}); run \`pnpm api:docs\` and commit docs/api`,
    );
    process.exit(1);
  }
  console.error(`api:docs --check: docs/api matches the API (${want.length} pages)`);
  process.exit(0);
}

let missing = 0;
let total = 0;
for (const m of docModels()) {
  missing += m.items.filter((i) => !i.documented).length;
  total += m.items.length;
}
console.error(
  `api:docs: ${readdirSync(out).length} pages in docs/api for ${dirs.length} packages; ${missing} of ${total} API items have no TSDoc summary (node tooling/scripts/api-undocumented.mjs --list)`,
);
