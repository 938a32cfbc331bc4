// `plan --workload train --optim …`: the optimizer choice sizes the plan's optim bytes (as the
// estimator's `training` option does) and reaches the engine exports, mapped or listed, never dropped.
import { estimate, parse } from "@tradeoffs/model";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../test/run-cli.js";

afterEach(() => {
  process.exitCode = undefined;
});

const base = ["plan", "--model", "llama2-7b", "--gpus", "8", "--tp", "1", "--dp", "8", "--zero", "0"];
const train = [...base, "--workload", "train", "--seq", "512"];

describe("compare plan with a training choice", () => {
  it("optim bytes per device follow the optimizer: the estimator's, whole on each device without ZeRO", async () => {
    const perDevice: Record<string, number> = {};
    for (const name of ["adamw", "adamw8bit", "adafactor", "sgd", "lion"]) {
      const r = await runCli([...train, "--optim", name, "--json"]);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out);
      expect(j.training).toEqual({ optimizer: { name } });
      perDevice[name] = j.perDevice.bytes.optim;
      const e = estimate(
        "llama2-7b",
        parse("Baseline"),
        { kind: "train", batch: 1, seq: 1, generate: 0 },
        {
          training: { optimizer: { name: name as "adamw" } },
        },
      );
      expect(perDevice[name]).toBe(e.bytes.optim);
    }
    expect(perDevice.adamw8bit!).toBeLessThan(perDevice.adamw!);
    expect(perDevice.adafactor!).toBeLessThan(perDevice.adamw8bit!);
  });

  it("hf maps every optimizer to TrainingArguments(optim=…); deepspeed lists all but AdamW", async () => {
    const hf = await runCli([...train, "--optim", "adamw8bit", "--export", "hf", "--json"]);
    expect(hf.code).toBe(0);
    const h = JSON.parse(hf.out);
    expect(h.files[0].content).toContain('optim="adamw_bnb_8bit"');
    expect(h.mapped).toContainEqual({ strategy: "--optim adamw8bit", as: 'optim="adamw_bnb_8bit"' });
    const ds = await runCli([...train, "--optim", "lion", "--export", "deepspeed", "--json"]);
    const d = JSON.parse(ds.out);
    expect(JSON.parse(d.files[0].content).optimizer).toBeUndefined();
    expect(d.unsupported.map((u: { strategy: string }) => u.strategy)).toContain("--optim lion");
  });

  it("bad input: one line, exit 2", async () => {
    const infer = await runCli([...base, "--optim", "lion"]);
    expect(infer.code).toBe(2);
    expect(infer.err).toMatch(/add --workload train/);
    const fp32Master = await runCli([...train, "--params", "fp32", "--master-weights"]);
    expect(fp32Master.code).toBe(2);
    expect(fp32Master.err.trim().split("\n")).toHaveLength(1);
  });
});
