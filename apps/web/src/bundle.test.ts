/**
 * Every package's public entry bundles for browsers: esbuild resolves each entry for the `browser`
 * platform (sources, then the built `dist/` when present) and any `node:` import fails the build.
 * Not here: whether the bundle runs (page.test.ts loads the app in Chromium).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { build, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";

const PACKAGES = ["core-tensor", "attention", "kv-cache", "quant", "checkpoint", "moe", "paging", "model"];
const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`@tradeoffs/${name}/package.json`));

/** Records every `node:` (or bare Node built-in) import instead of letting esbuild guess. */
function nodeImports(seen: string[]): Plugin {
  return {
    name: "no-node-builtins",
    setup(b) {
      b.onResolve(
        { filter: /^node:|^(fs|path|os|url|module|crypto|child_process|worker_threads)$/ },
        (args) => {
          seen.push(`${args.path} (from ${args.importer.replace(/.*\/packages\//, "packages/")})`);
          return { path: args.path, external: true };
        },
      );
    },
  };
}

async function bundle(
  entry: string,
  conditions: string[],
): Promise<{ nodeImports: string[]; bytes: number }> {
  const seen: string[] = [];
  const out = await build({
    stdin: {
      contents: `export * from ${JSON.stringify(entry)};`,
      resolveDir: import.meta.dirname,
      loader: "ts",
    },
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    target: "es2022",
    conditions,
    logLevel: "silent",
    plugins: [nodeImports(seen)],
  });
  return { nodeImports: seen, bytes: out.outputFiles[0]!.contents.length };
}

describe("every package bundles for the browser", () => {
  for (const name of PACKAGES) {
    it(`@tradeoffs/${name} from sources has no node: import`, async () => {
      const r = await bundle(`@tradeoffs/${name}`, ["@tradeoffs/source"]);
      expect(r.nodeImports).toEqual([]);
      expect(r.bytes).toBeGreaterThan(1000);
    });
  }

  // The published shape: `dist/` through the `browser` conditions of exports and imports (#host).
  for (const name of PACKAGES) {
    const built = existsSync(join(packageDir(name), "dist", "index.js"));
    it.skipIf(!built)(`@tradeoffs/${name} from dist/ has no node: import`, async () => {
      const r = await bundle(`@tradeoffs/${name}`, []);
      expect(r.nodeImports).toEqual([]);
    });
  }

  it("the check catches a node: import (the plugin is not a no-op)", async () => {
    const r = await bundle(join(packageDir("core-tensor"), "src", "host", "node.ts"), ["@tradeoffs/source"]);
    expect(r.nodeImports.some((s) => s.startsWith("node:fs"))).toBe(true);
  });
});
