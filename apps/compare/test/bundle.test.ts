// The CLI as the bin and `pnpm compare` run it: dist/cli.bundle.js (scripts/bundle.mjs), one module
// holding dist/cli.js and every package it imports. It must behave as the unbundled CLI does: find the
// WASM kernels and the shipped weights (the packages resolve them by name, not by file place) and
// print the same figures.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const dist = new URL("../dist/", import.meta.url);
const bundle = new URL("cli.bundle.js", dist);
const run = (file: URL, args: string[]) =>
  spawnSync(process.execPath, [file.pathname, ...args], { encoding: "utf8", timeout: 120_000 });
const both = (args: string[]) => [run(bundle, args), run(new URL("cli.js", dist), args)] as const;

/** A run's JSON without what varies from run to run: times, rates, spreads and the machine's load. */
function withoutTimes(json: string): unknown {
  return JSON.parse(json, (k, v) =>
    /(Ms|PerStep|PerSec)$|^(load|samples|seconds)$/.test(k) ? undefined : v,
  );
}

describe.skipIf(!existsSync(bundle))("the bundled CLI", () => {
  it("imports no workspace package at run time: it is one module", () => {
    const text = readFileSync(bundle, "utf8");
    expect(text).not.toMatch(/\bfrom\s*["']@tradeoffs\//);
    expect(text).not.toMatch(/\bimport\(\s*["']@tradeoffs\//);
  });

  it("prints what the unbundled CLI prints: list, estimate, plan", () => {
    for (const args of [
      ["list"],
      ["estimate", "--model", "llama2-70b", "--config", "NF4", "GQA", "--json"],
      ["plan", "--model", "llama2-70b", "--gpus", "8", "--json"],
    ]) {
      const [b, u] = both(args);
      expect(b.status, args.join(" ")).toBe(0);
      expect(b.stdout).toBe(u.stdout);
    }
  });

  it("measures with the WASM kernels and the shipped weights: the same bytes, tokens and quality", () => {
    const [b, u] = both([
      "Baseline",
      "NF4",
      "--workload",
      "infer",
      "--generate",
      "2",
      "--repeats",
      "1",
      "--warmup",
      "0",
      "--json",
    ]);
    expect(b.status, b.stderr).toBe(0);
    const out = withoutTimes(b.stdout) as { backend: string; rows: { infer: { tokens: number[] } }[] };
    expect(out.backend).toMatch(/^WASM/);
    expect(out.rows).toHaveLength(2);
    expect(out.rows[0]!.infer.tokens).toHaveLength(2); // the generated tokens: equal below, so same weights
    expect(out).toEqual(withoutTimes(u.stdout));
  });

  it("fails as the unbundled CLI does on bad input: exit code and message", () => {
    const [b, u] = both(["NoSuchStrategy"]);
    expect(b.status).toBe(2);
    expect(b.status).toBe(u.status);
    expect(b.stderr).toBe(u.stderr);
  });
});
