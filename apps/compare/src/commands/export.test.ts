/**
 * `compare export` and `compare estimate --model file.gguf` end to end through `main`: the file is
 * written, its header feeds the estimate, and a format GGUF cannot hold exits 2 with no file left.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../test/run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "compare-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli;

describe("compare export", () => {
  it("writes a Q8_0 GGUF of tiny that estimate reads back from its header", async () => {
    const path = join(dir, "tiny-q8_0.gguf");
    const w = await run(["export", "--model", "tiny", "--config", "Q8_0", "--out", path, "--json"]);
    expect(w.code, w.err).toBe(0);
    const j = JSON.parse(w.out);
    expect(j).toMatchObject({ path, tensors: 21, types: { F32: 7, Q8_0: 14 }, config: "Q8_0" });
    expect(j.notCarried).toContain("kv-memory: Contiguous");
    const est = await run(["estimate", "--model", path, "--config", "Q8_0", "--json"]);
    expect(est.code, est.err).toBe(0);
    const e = JSON.parse(est.out);
    expect(e.file).toMatchObject({ format: "Q8_0", fileSize: j.bytes });
    expect(e.file.arch).toMatchObject({ layers: 2, dModel: 32, heads: 4, vocab: 64 });
    const text = await run(["estimate", "--model", path]);
    expect(text.out).toMatch(/Q8_0: 14 tensors/);
  });

  it("a weight format GGUF cannot hold exits 2, names the valid ones and leaves no file", async () => {
    const path = join(dir, "nf4.gguf");
    const r = await run(["export", "--model", "tiny", "--config", "NF4", "--out", path]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/GGUF holds FP32, FP16, BF16, Q8_0, Q4_0/);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes("nf4"))).toEqual([]);
  });
});

describe("estimate --model file.gguf", () => {
  it("estimates the file's own weight format when no --config is given", async () => {
    const file = join(dir, "fmt-q8.gguf");
    expect((await runCli(["export", "--model", "tiny", "--config", "Q8_0", "--out", file])).code).toBe(0);
    const r = await runCli(["estimate", "--model", file, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rows[0].config).toBe("Q8_0");
  });
});
