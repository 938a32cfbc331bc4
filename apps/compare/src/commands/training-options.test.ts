/**
 * `--optim`, `--grad-accum`, `--params` and `--master-weights` on `estimate` and `run`: the estimate
 * follows the choice; each bad value or contradiction is one line on stderr and exit 2.
 */
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../test/run-cli.js";

afterEach(() => {
  process.exitCode = undefined;
});

const optimBytes = async (...extra: string[]) => {
  const r = await runCli([
    "estimate",
    "--model",
    "llama2-7b",
    "--workload",
    "train",
    "--seq",
    "512",
    "--json",
    ...extra,
  ]);
  expect(r.code, r.err).toBe(0);
  const e = JSON.parse(r.out).rows[0].estimate;
  return { optim: e.bytes.optim as number, n: e.params.trainable as number, act: e.bytes.act as number };
};

describe("training options", () => {
  it("estimate follows --optim, --no-master-weights and --grad-accum", async () => {
    const base = await optimBytes();
    expect(base.optim).toBe(12 * base.n); // AdamW + fp32 master copy, the published default
    expect((await optimBytes("--optim", "sgd", "--no-master-weights")).optim).toBe(4 * base.n);
    expect((await optimBytes("--optim", "lion")).optim).toBe(8 * base.n);
    const eight = await optimBytes("--optim", "adamw8bit", "--no-master-weights");
    expect(eight.optim / base.n).toBeGreaterThan(2);
    expect(eight.optim / base.n).toBeLessThan(2.01);
    const accum = await optimBytes("--batch", "4", "--grad-accum", "4");
    const full = await optimBytes("--batch", "4");
    expect(accum.act).toBeLessThan(full.act / 3);
  });

  it.each([
    [
      ["--optim", "adam"],
      /argument 'adam' is invalid\. Allowed choices are adamw, adamw8bit, adafactor, sgd, lion/,
    ],
    [["--grad-accum", "0"], /--grad-accum must be a positive integer/],
    [["--batch", "4", "--grad-accum", "3"], /gradient accumulation 3 must divide the batch 4/],
    [["--params", "fp32", "--master-weights"], /--master-weights keeps an f32 copy of bf16 parameters/],
    [["--params", "fp8"], /argument 'fp8' is invalid\. Allowed choices are fp32, bf16/],
  ])("estimate %j: one line, exit 2", async (extra, message) => {
    const r = await runCli(["estimate", "--model", "small", "--workload", "train", ...(extra as string[])]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message as RegExp);
    expect(r.err.trim().split("\n")).toHaveLength(1);
  });

  it("training flags without a training workload: one line, exit 2 (estimate and run)", async () => {
    const e = await runCli(["estimate", "--model", "small", "--optim", "sgd"]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/add --workload train/);
    const r = await runCli([
      "Baseline",
      "--model",
      "tiny",
      "--workload",
      "infer",
      "--grad-accum",
      "2",
      "--quiet",
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/add --workload train/);
  });
});
