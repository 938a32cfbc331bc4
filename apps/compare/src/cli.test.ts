import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "./cli.js";

const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

async function run(args: string[]) {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  process.exitCode = undefined;
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe("compare estimate", () => {
  it("prints llama2-70b at 4096 tokens as JSON with stable field names", async () => {
    const r = await run(["estimate", "--model", "llama2-70b", "--seq", "4096", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.rows[0].config).toBe("Baseline");
    expect(j.rows[0].estimate.params.total).toBe(68_976_648_192);
    expect(j.rows[0].estimate.params.active).toBe(68_976_648_192);
    expect(j.rows[0].estimate.bytes.kv).toBe(4096 * 2 * 80 * 8 * 128 * 2);
    expect(j.rows[0].estimate.bytes.weights).toBe(68_976_648_192 * 2);
  });

  it("prints a table by default", async () => {
    const r = await run(["estimate", "--model", "mixtral-8x7b", "--seq", "1024"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("46.70B");
    expect(r.out).toContain("12.88B");
  });
});

describe("Hugging Face config.json", () => {
  it("estimates a Mixtral config with the published total and active parameters", async () => {
    const r = await run(["estimate", "--model", fixture("mixtral-config.json"), "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.rows[0].estimate.params.total).toBe(46_702_792_704);
    expect(j.rows[0].estimate.params.active).toBe(12_879_925_248);
  });

  it("names the supported families for an unknown model_type", async () => {
    const r = await run(["estimate", "--model", fixture("bert-config.json")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/supported families: llama, mistral, mixtral, gpt2/);
  });
});

describe("claims", () => {
  it("prints every claim with a verdict computed by the code", async () => {
    const r = await run(["claims", "--no-measure", "--json"]);
    expect(r.code).toBe(0);
    const { claims } = JSON.parse(r.out);
    expect(claims).toHaveLength(13);
    for (const c of claims) expect(["holds", "wrong", "misleading", "unverifiable"]).toContain(c.verdict);
    expect(claims.find((c: { id: number }) => c.id === 4).verdict).toBe("wrong");
  });
});

describe("bad input: one line, exit code 2, no stack trace", () => {
  it("names an unknown strategy and its closest match", async () => {
    const r = await run(["estimate", "--model", "llama2-7b", "--config", "Flsh"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown strategy 'Flsh'/);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
  });

  it("rejects an unknown preset with the valid choices", async () => {
    const r = await run(["estimate", "--model", "llama9"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/llama2-70b/);
  });

  it("rejects a malformed number", async () => {
    const r = await run(["estimate", "--model", "gpt2", "--seq", "abc"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--seq must be a positive integer/);
  });

  it("rejects an unknown option with a suggestion", async () => {
    const r = await run(["estimate", "--model", "gpt2", "--sequ", "5"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--seq/);
  });

  it("measuring an estimate-only preset says what to do instead", async () => {
    const r = await run(["Baseline", "--model", "llama2-70b"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/estimate-only/);
  });
});

describe("compare run", () => {
  it("measures the Baseline on tiny through every workload", async () => {
    const r = await run([
      "Baseline",
      "--model",
      "tiny",
      "--json",
      "--quiet",
      "--seq",
      "16",
      "--prompt",
      "8",
      "--generate",
      "4",
      "--steps",
      "1",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const row = j.rows[0];
    expect(row.config).toBe("Baseline");
    expect(row.infer.peak.weights).toBe(row.infer.estimate.bytes.weights);
    expect(row.infer.peak.kv).toBe(row.infer.estimate.bytes.kv);
    expect(row.train.peak.grad).toBe(row.train.estimate.bytes.grad);
    expect(row.quality.top1Agreement).toBe(1);
  });

  it("--help exits 0 with examples", async () => {
    const r = await run(["run", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out + r.err).toMatch(/Examples:/);
  });
});
