import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../test/run-cli.js";

const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

const run = runCli;

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
    expect(claims).toHaveLength(23);
    for (const c of claims) expect(["holds", "wrong", "misleading", "unverifiable"]).toContain(c.verdict);
    expect(claims.find((c: { id: number }) => c.id === 4).verdict).toBe("wrong");
  });
});

describe("--version", () => {
  it("prints the package's version and exits 0", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    for (const flag of ["--version", "-V"]) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${version}\n`);
    }
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
    // What measured the rows (the default backend; the kernels' build only on WASM).
    expect(j.backend).toMatch(/^(WASM\[threads=[12]\]|JS)$/);
    if (j.backend.startsWith("WASM")) expect(j.wasmFlavor).toBe("simd");
    else expect(j.wasmFlavor).toBeUndefined();
  });

  it("--help exits 0 with examples", async () => {
    const r = await run(["run", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out + r.err).toMatch(/Examples:/);
  });
});

describe("help, suggestions, CSV and the terminal layout", () => {
  it("top-level --help lists the commands and the default command's options", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    const text = r.out + r.err;
    expect(text).toMatch(/Commands:[\s\S]*estimate/);
    expect(text).toMatch(/The default command, run/);
    for (const o of ["--workload", "--scale", "--wide", "--html"]) expect(text).toContain(o);
    expect(text).not.toMatch(/tradeoffs-compare run --help/);
  });

  it("a mistyped command suggests the command, not a strategy", async () => {
    const r = await run(["lst"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command 'lst'; did you mean 'list'\?/);
    const s = await run(["Flsh", "--model", "tiny"]);
    expect(s.err).toMatch(/did you mean 'Flash'/);
  });

  it("--csv writes raw numbers with units in the header and a table column", async () => {
    const json = JSON.parse(
      (await run(["estimate", "--model", "gpt2", "--config", "Baseline", "NF4", "--json"])).out,
    );
    const r = await run(["estimate", "--model", "gpt2", "--config", "Baseline", "NF4", "--csv"]);
    expect(r.code).toBe(0);
    const [header, ...lines] = r.out.trim().split("\n");
    const cols = header!.split(",");
    expect(cols[0]).toBe("table");
    expect(cols).toContain("weights (bytes)");
    expect(lines).toHaveLength(2);
    const first = lines[0]!.split(",");
    expect(first[0]).toBe("estimate");
    expect(Number(first[cols.indexOf("weights (bytes)")])).toBe(json.rows[0].estimate.bytes.weights);
    expect(Number(first[cols.indexOf("total (bytes)")])).toBe(json.rows[0].estimate.totalBytes);
    expect(r.out).not.toMatch(/MiB|GiB/);
  });

  const tinyRun = [
    "--model",
    "tiny",
    "--quiet",
    "--seq",
    "16",
    "--prompt",
    "8",
    "--generate",
    "4",
    "--steps",
    "1",
  ];
  const suite = ["Baseline", "MoE+Flash+GQA+INT8", "Flash+GQA+INT4", "QLoRA"];

  it("the default terminal layout fits 120 columns; --wide prints the full table", async () => {
    const r = await run([...suite, ...tinyRun]);
    expect(r.code).toBe(0);
    const widths = r.out.split("\n").map((l) => [...l].length);
    expect(Math.max(...widths)).toBeLessThanOrEqual(120);
    expect(r.out).toMatch(/^Memory on tiny/m);
    expect(r.out).toMatch(/^MoE\+Flash\+GQA\+INT8 +measured/m);
    const wide = await run([...suite, ...tinyRun, "--wide"]);
    expect(wide.out).toContain("weights (meas / est)");
    expect(wide.out).toContain(
      "Flash[block=64]+GQA[kvHeads=2]+INT8[group=0]+MoE[experts=8,topK=2,capacity=inf]",
    );
  }, 60_000);

  it("drops columns the workload leaves empty, and --html says where it wrote", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tradeoffs-cli-"));
    try {
      const file = join(dir, "r.html");
      const r = await run([
        "Baseline",
        ...tinyRun.filter((a) => a !== "--quiet"),
        "--workload",
        "train",
        "--scale",
        "none",
        "--html",
        file,
      ]);
      expect(r.code).toBe(0);
      expect(r.out).toContain("train ms/step");
      expect(r.out).not.toContain("prefill tok/s");
      expect(r.out).not.toContain("top-1");
      expect(r.err).toContain(`HTML report written to ${file}`);
      expect(existsSync(file)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("bad input: one line, exit 2, before any work", () => {
  const cases: [string, string[], RegExp][] = [
    [
      "negative generate",
      ["estimate", "--model", "llama2-7b", "--generate", "-3000"],
      /--generate must be a non-negative integer, got '-3000'/,
    ],
    [
      "non-numeric generate",
      ["estimate", "--model", "llama2-7b", "--generate", "abc"],
      /--generate must be a non-negative integer, got 'abc'/,
    ],
    [
      "--json with --csv",
      ["estimate", "--model", "llama2-7b", "--json", "--csv"],
      /cannot be used with option '--csv'/,
    ],
    ["an empty --html", ["Baseline", "--model", "tiny", "--html", "", "--quiet"], /--html needs a file name/],
    [
      "an unwritable --html",
      ["Baseline", "--model", "tiny", "--html", "/nonexistent-dir/r.html", "--quiet"],
      /cannot write to \/nonexistent-dir/,
    ],
    [
      "an unknown --wasm-flavor",
      ["Baseline", "--model", "tiny", "--wasm-flavor", "fma", "--quiet"],
      /'--wasm-flavor <name>' argument 'fma' is invalid. Allowed choices are simd, relaxed/,
    ],
    [
      "prompt beyond the context",
      ["Baseline", "--model", "tiny", "--prompt", "60", "--quiet"],
      /exceeds tiny's context of 64 tokens; lower --prompt or --generate/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const t0 = performance.now();
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(performance.now() - t0).toBeLessThan(5000); // refused before measuring anything
    });
  }

  it("a config.json that is not JSON is bad input (exit 2)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tradeoffs-bad-"));
    try {
      const file = join(dir, "config.json");
      writeFileSync(file, "{ not json");
      const r = await run(["estimate", "--model", file]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/is not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tiny runs with its own defaults (they fit its 64-token context)", async () => {
    const r = await run([
      "Baseline",
      "--model",
      "tiny",
      "--workload",
      "infer",
      "--repeats",
      "1",
      "--scale",
      "none",
      "--json",
      "--quiet",
    ]);
    expect(r.code).toBe(0);
    const row = JSON.parse(r.out).rows[0];
    expect(row.infer.prompt + row.infer.generate).toBeLessThanOrEqual(64);
    expect(row.infer.samples.prefillMs).toHaveLength(1);
  });
});
