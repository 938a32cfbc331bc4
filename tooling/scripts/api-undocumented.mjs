#!/usr/bin/env node
// `node tooling/scripts/api-undocumented.mjs [--list] [package...]`: counts the public API items
// (exports and their members) whose TSDoc summary is empty, from the api-extractor doc models
// (packages/*/temp/<name>.api.json, written by `pnpm api:docs` or `pnpm api`). Reads; changes nothing.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");

/** The summary of a `/** ... *\/` comment: its text before the first block tag, trimmed. */
export function summaryOf(docComment) {
  const body = (docComment ?? "")
    .replace(/^\s*\/\*\*/, "")
    .replace(/\*\/\s*$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, ""))
    .join("\n");
  return body.split(/(^|\s)@(?!link|inheritDoc)[a-zA-Z]+/)[0].trim();
}

/** Every API item under `item` (not the package or entry point): [{ path, kind, top, documented }]. */
function walk(item, path, depth, out) {
  for (const m of item.members ?? []) {
    const name = m.name ?? m.canonicalReference ?? "?";
    const here = [...path, name];
    if (m.kind !== "EntryPoint") {
      const inherited = /\{@inheritDoc\b/.test(m.docComment ?? "");
      out.push({
        path: here.join("."),
        kind: m.kind,
        top: depth === 0,
        documented: inherited || summaryOf(m.docComment) !== "",
      });
    }
    walk(m, m.kind === "EntryPoint" ? path : here, m.kind === "EntryPoint" ? depth : depth + 1, out);
  }
  return out;
}

/** `{ package, items }` for each package that has a doc model, in directory order. */
export function docModels(names = []) {
  const models = [];
  for (const dir of readdirSync(join(root, "packages")).sort()) {
    if (names.length > 0 && !names.includes(dir)) continue;
    const file = join(root, "packages", dir, "temp", `${dir}.api.json`);
    if (!existsSync(file)) continue;
    const model = JSON.parse(readFileSync(file, "utf8"));
    models.push({ package: model.name, items: walk(model, [], 0, []) });
  }
  return models;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const list = args.includes("--list");
  const models = docModels(args.filter((a) => !a.startsWith("--")));
  if (models.length === 0) {
    console.error("no doc models found (packages/*/temp/*.api.json): run `pnpm api:docs` first");
    process.exit(2);
  }
  let missing = 0;
  let total = 0;
  let missingTop = 0;
  let totalTop = 0;
  for (const m of models) {
    const bad = m.items.filter((i) => !i.documented);
    const top = m.items.filter((i) => i.top);
    const badTop = top.filter((i) => !i.documented);
    missing += bad.length;
    total += m.items.length;
    missingTop += badTop.length;
    totalTop += top.length;
    console.log(
      `${m.package.padEnd(26)} ${String(bad.length).padStart(4)} of ${String(m.items.length).padStart(4)} items undocumented (exports: ${badTop.length} of ${top.length})`,
    );
    if (list) for (const i of bad) console.log(`    ${i.kind.padEnd(18)} ${i.path}`);
  }
  console.log(
    `${"total".padEnd(26)} ${String(missing).padStart(4)} of ${String(total).padStart(4)} items undocumented (exports: ${missingTop} of ${totalTop})`,
  );
}
