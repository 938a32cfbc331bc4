import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../test/run-cli.js";

// The model package's config.json fixtures (published Hub files).
const HF = fileURLToPath(new URL("../../../packages/model/test/fixtures/hf/", import.meta.url));
const hfJson = (name: string) =>
  JSON.parse(readFileSync(join(HF, name, "config.json"), "utf8")) as Record<string, unknown>;

afterEach(() => {
  process.exitCode = undefined;
});

describe("compare estimate: DeepSeek-V2-Lite (MLA) and Gemma 2", () => {
  it("deepseek-v2-lite: 15.7B total, its latent KV cache, the same from its config.json", async () => {
    const args = ["--seq", "4096", "--generate", "256", "--json"];
    const preset = await runCli(["estimate", "--model", "deepseek-v2-lite", ...args]);
    expect(preset.code).toBe(0);
    const row = JSON.parse(preset.out).rows[0].estimate;
    expect(row.params.total).toBe(15_706_484_224);
    expect(row.bytes.kv).toBe((4096 + 256) * 27 * 576 * 2);
    const file = await runCli(["estimate", "--model", join(HF, "deepseek-v2-lite"), ...args]);
    expect(file.code).toBe(0);
    const fromFile = JSON.parse(file.out).rows[0].estimate;
    expect(fromFile.params).toEqual(row.params);
    expect(fromFile.bytes).toEqual(row.bytes);
  });

  it("gemma2-9b at 8192 tokens: half the layers hold the 4096-token window", async () => {
    const r = await runCli(["estimate", "--model", "gemma2-9b", "--seq", "8192", "--json"]);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.out).rows[0].estimate;
    expect(e.bytes.kv).toBe((21 * 4096 + 21 * 8192) * 2 * 8 * 256 * 2);
  });
});

describe("an inconsistent config.json: one line, exit 2", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      "KV heads not dividing the heads",
      { num_key_value_heads: 3 },
      /num_key_value_heads \(3\) must divide num_attention_heads \(16\)/,
    ],
    [
      "top-k above the expert count",
      { num_experts_per_tok: 65 },
      /num_experts_per_tok \(65\) must be in 1\.\.n_routed_experts \(64\)/,
    ],
    [
      "a non-integer head size",
      { hidden_size: 2050 },
      /hidden_size \(2050\) \/ num_attention_heads \(16\) = 128\.13 is not an integer head size/,
    ],
  ];
  for (const [what, change, message] of cases) {
    it(what, async () => {
      const dir = mkdtempSync(join(tmpdir(), "tradeoffs-hf-"));
      try {
        const file = join(dir, "config.json");
        writeFileSync(file, JSON.stringify({ ...hfJson("deepseek-moe-16b"), ...change }));
        const r = await runCli(["estimate", "--model", file]);
        expect(r.code).toBe(2);
        expect(r.err).toMatch(message);
        expect(r.err.trim().split("\n")).toHaveLength(1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
