// The `plan` command end to end through the CLI's main(): JSON shape, exit codes, one-line errors.
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../test/run-cli.js";

const run = runCli;

afterEach(() => {
  process.exitCode = undefined;
});

describe("compare plan", () => {
  it("--json has the documented stable fields", async () => {
    const r = await run([
      "plan",
      "--model",
      "llama2-70b",
      "--config",
      "NF4+GQA",
      "--hardware",
      "h100-80gb",
      "--gpus",
      "8",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(
      expect.arrayContaining([
        "model",
        "hardware",
        "devices",
        "layout",
        "perDevice",
        "cpuBytes",
        "kvCapacityTokens",
        "maxConcurrentSequences",
        "time",
        "candidates",
      ]),
    );
    expect(Object.keys(j.layout).sort()).toEqual(["dp", "offload", "pp", "sp", "tp", "zero"]);
    expect(Object.keys(j.perDevice.bytes).sort()).toEqual([
      "act",
      "adapters",
      "grad",
      "kv",
      "optim",
      "overhead",
      "tmp",
      "weights",
    ]);
    expect(j.perDevice.capacity).toBe(85_520_809_984);
    expect(typeof j.perDevice.fits).toBe("boolean");
    expect(Object.keys(j.time)).toEqual(
      expect.arrayContaining(["prefillMs", "decodeMsPerToken", "trainStepMs", "commMs"]),
    );
    expect(j.devices).toBe(8);
    expect(j.candidates.length).toBeGreaterThan(1);
  });

  it("prints tables by default, with the candidates when searching", async () => {
    const r = await run(["plan", "--model", "llama2-70b", "--gpus", "8", "--workload", "serve"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("KV capacity");
    expect(r.out).toContain("Layouts of 8 devices");
  });

  it("training with an explicit layout and ZeRO-3 offload", async () => {
    const r = await run([
      "plan",
      "--workload",
      "train",
      "--gpus",
      "16",
      "--tp",
      "8",
      "--dp",
      "2",
      "--zero",
      "3",
      "--offload",
      "optimizer",
      "--seq",
      "4096",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.layout).toMatchObject({ tp: 8, pp: 1, dp: 2, zero: 3, offload: "optimizer", sp: true });
    expect(j.perDevice.bytes.optim).toBe(0);
    expect(j.cpuBytes).toBeGreaterThan(0);
    expect(j.time.trainStepMs).toBeGreaterThan(0);
  });

  it("--convention deepspeed reproduces its ZeRO-3 formula", async () => {
    const r = await run([
      "plan",
      "--workload",
      "train",
      "--gpus",
      "8",
      "--zero",
      "3",
      "--convention",
      "deepspeed",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.deepspeed.formula).toBe("estimate_zero3_model_states_mem_needs");
    expect(j.perDevice.total).toBe(4 * 32000 * 8192 + Math.floor((18 * 68_976_648_192) / 8));
  });

  it("--hardware takes a JSON file (and a broken one is one line, exit 2)", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "plan-hw-"));
    const file = join(dir, "b200.json");
    writeFileSync(
      file,
      JSON.stringify({ name: "b200", memoryBytes: 192e9, bandwidth: 8e12, flops: { bf16: 2.25e15 } }),
    );
    const ok = await run(["plan", "--hardware", file, "--gpus", "2", "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).perDevice.capacity).toBe(192e9);
    writeFileSync(file, JSON.stringify({ name: "b200", flops: {} }));
    const bad = await run(["plan", "--hardware", file]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/'memoryBytes'/);
    expect(bad.err.trim().split("\n")).toHaveLength(1);
  });

  it("--export prints the engine's command and lists what has no equivalent", async () => {
    const args = ["plan", "--model", "llama2-70b", "--config", "NF4+GQA+KV[dtype=int8]+Paged[block=16]"];
    const r = await run([
      ...args,
      "--gpus",
      "4",
      "--tp",
      "4",
      "--workload",
      "serve",
      "--export",
      "vllm",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.engine).toBe("vllm");
    expect(j.command).toMatch(
      /^vllm serve .* --tensor-parallel-size 4 --pipeline-parallel-size 1 .*--quantization bitsandbytes/,
    );
    expect(j.command).toContain("--block-size 16");
    expect(j.unsupported).toEqual([
      { strategy: "KV[dtype=int8]", reason: expect.stringContaining("auto|fp8") },
    ]);
    const text = await run([...args, "--gpus", "1", "--hardware", "h100-sxm", "--export", "llamacpp"]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^llama-server -m llama2-70b-F16\.gguf -c 2176 -ngl 81 -ctk q8_0 -ctv q8_0\n/);
    expect(text.out).toMatch(/# no equivalent\n# {3}NF4\[block=64,dq=true\]: NF4/);
    const ds = await run([
      "plan",
      "--model",
      "llama2-7b",
      "--config",
      "BF16",
      "--gpus",
      "8",
      "--dp",
      "8",
      "--tp",
      "1",
      "--pp",
      "1",
      "--workload",
      "train",
      "--zero",
      "3",
      "--offload",
      "optimizer+params",
      "--batch",
      "32",
      "--export",
      "deepspeed",
      "--json",
    ]);
    expect(ds.code).toBe(0);
    const cfg = JSON.parse(JSON.parse(ds.out).files[0].content);
    expect(cfg.zero_optimization).toEqual({
      stage: 3,
      offload_optimizer: { device: "cpu" },
      offload_param: { device: "cpu" },
    });
    expect(cfg.train_batch_size).toBe(32);
  });

  it("--export with an unknown engine names the engines, exit 2", async () => {
    const r = await run(["plan", "--export", "tgi"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/vllm, llamacpp, hf, deepspeed/);
  });

  const bad: [string, string[], RegExp][] = [
    [
      "layout product ≠ devices",
      ["--gpus", "8", "--tp", "2", "--pp", "2", "--dp", "1"],
      /= 4 devices, but --gpus is 8/,
    ],
    [
      "tp not dividing the heads",
      ["--gpus", "6", "--tp", "6"],
      /--tp 6 does not divide llama2-70b's 64 attention heads/,
    ],
    ["an unknown preset", ["--hardware", "h100-90gb"], /unknown hardware 'h100-90gb'/],
    ["an unknown model", ["--model", "llama9"], /unknown model 'llama9'/],
  ];
  for (const [what, args, re] of bad) {
    it(`${what}: one clear line, exit 2`, async () => {
      const r = await run(["plan", ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err.trim().split("\n")).toHaveLength(1);
    });
  }
});
