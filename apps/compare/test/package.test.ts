// The package as `npx @tradeoffs/compare …` meets it: npm runs a package's bin without naming it only
// when the package has exactly one bin (or one named after the package), so `tradeoffs` must stay alone.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));

describe("@tradeoffs/compare as published", () => {
  it("is publishable and has exactly one bin, `tradeoffs`", () => {
    expect(manifest.private).not.toBe(true);
    expect(manifest.bin).toEqual({ tradeoffs: "./bin/tradeoffs.js" });
  });

  it.skipIf(!existsSync(new URL("dist/cli.bundle.js", root)))("the bin runs the built CLI", () => {
    const r = spawnSync(process.execPath, [new URL("bin/tradeoffs.js", root).pathname, "list"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/small/);
  });
});
