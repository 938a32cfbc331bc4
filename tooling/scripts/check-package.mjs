#!/usr/bin/env node
// `node tooling/scripts/check-package.mjs [dir]` (the per-package turbo task `check:package`): packs one
// published package once (pnpm pack, as a consumer receives it) and lints that tarball with publint
// (--strict: warnings fail) and arethetypeswrong (types resolve per entry point; esm-only profile).
// Checks packaging only, not behaviour; `pnpm check:packages` runs it over every published package.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { checkPackage, createPackageFromTarballData } from "@arethetypeswrong/core";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

// ESM-only packages: CommonJS `require` and node10 resolution are expected not to resolve
// (the same resolutions as `attw --profile esm-only`).
const IGNORED_RESOLUTIONS = new Set(["node10", "node16-cjs"]);

const dir = resolve(process.argv[2] ?? process.cwd());
const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
const out = mkdtempSync(join(tmpdir(), "tradeoffs-pack-"));
const problems = [];
try {
  execFileSync("pnpm", ["pack", "--pack-destination", out], {
    cwd: dir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const tarball = readdirSync(out).find((f) => f.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`pnpm pack wrote no .tgz into ${out} for ${manifest.name}`);
  const data = readFileSync(join(out, tarball));

  const lint = await publint({
    pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) },
    strict: true,
  });
  for (const m of lint.messages) {
    const line = `publint ${m.type}: ${formatMessage(m, lint.pkg, { color: false }) ?? m.code}`;
    if (m.type === "suggestion") console.error(`${manifest.name}: ${line}`);
    else problems.push(line);
  }

  const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(data)));
  if (!analysis.types) problems.push("attw: the package ships no types");
  else
    for (const p of analysis.problems) {
      if ("resolutionKind" in p && IGNORED_RESOLUTIONS.has(p.resolutionKind)) continue;
      const where = [p.entrypoint, p.resolutionKind].filter((x) => x !== undefined).join(" ");
      problems.push(`attw ${p.kind}${where ? ` (${where})` : ""}`);
    }
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(`${manifest.name}: ${problems.length} packaging problem(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.error(`${manifest.name}: publint --strict and attw (esm-only) pass`);
