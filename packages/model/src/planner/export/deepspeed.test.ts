// The DeepSpeed export: ds_config.json holds only documented fields with documented values, and the
// batch identity DeepSpeed checks holds. Source: deepspeed.ai/docs/config-json/ (unversioned page,
// read 2026-11): train_batch_size = micro-batch × accumulation × GPUs; stage 0-3; offload devices.
import { describe, expect, it } from "vitest";
import { parse } from "../../registry.js";
import { planCluster } from "../plan.js";
import { exportPlan } from "./index.js";

const TOP = [
  "train_batch_size",
  "train_micro_batch_size_per_gpu",
  "gradient_accumulation_steps",
  "bf16",
  "fp16",
  "optimizer",
  "zero_optimization",
];
const ZERO = ["stage", "offload_optimizer", "offload_param"];
const DEVICES = ["none", "cpu", "nvme"];
const OPTIMIZER_TYPES = ["Adam", "AdamW", "OneBitAdam", "Lamb", "OneBitLamb"];

const run = (config: string, extra: Partial<Parameters<typeof planCluster>[0]> = {}) => {
  const c = parse(config);
  const p = planCluster({
    model: "llama2-7b",
    config: c,
    hardware: "a100-80gb",
    devices: 8,
    workload: "train",
    tp: 1,
    pp: 1,
    dp: 8,
    batch: 64,
    microBatch: 2,
    ...extra,
  });
  const e = exportPlan("deepspeed", p, c);
  return { c, p, e, ds: JSON.parse(e.files?.[0]?.content as string) };
};

describe("exportPlan deepspeed", () => {
  it("writes documented fields whose batch sizes multiply out", () => {
    for (const [zero, offload] of [
      [0, "none"],
      [2, "optimizer"],
      [3, "optimizer+params"],
    ] as const) {
      const { ds } = run("BF16", { zero, offload });
      for (const k of Object.keys(ds)) expect(TOP, k).toContain(k);
      for (const k of Object.keys(ds.zero_optimization)) expect(ZERO, k).toContain(k);
      expect([0, 1, 2, 3]).toContain(ds.zero_optimization.stage);
      expect(ds.zero_optimization.stage).toBe(zero);
      for (const k of ["offload_optimizer", "offload_param"] as const)
        if (ds.zero_optimization[k]) expect(DEVICES).toContain(ds.zero_optimization[k].device);
      expect(OPTIMIZER_TYPES).toContain(ds.optimizer.type);
      expect(ds.train_batch_size).toBe(
        ds.train_micro_batch_size_per_gpu * ds.gradient_accumulation_steps * 8,
      );
      expect(ds.train_batch_size).toBe(64);
      expect(ds.gradient_accumulation_steps).toBe(4);
      expect(ds.bf16).toEqual({ enabled: true });
    }
  });

  it("offloads what the layout offloads, on the stages that allow it", () => {
    expect(run("BF16", { zero: 2, offload: "optimizer" }).ds.zero_optimization).toEqual({
      stage: 2,
      offload_optimizer: { device: "cpu" },
    });
    expect(run("BF16", { zero: 3, offload: "optimizer+params" }).ds.zero_optimization).toEqual({
      stage: 3,
      offload_optimizer: { device: "cpu" },
      offload_param: { device: "cpu" },
    });
  });

  it("lists quantised weights, adapters, checkpointing and model-parallel degrees", () => {
    const { c, e } = run("QLoRA+Ckpt+Flash", { tp: 2, dp: 4, zero: 1 });
    const listed = e.unsupported.map((u) => u.strategy);
    for (const s of c.strategies) expect(listed).toContain(s.label);
    expect(listed).toContain("layout tp=2");
    expect(e.command).toBe("deepspeed --num_gpus 8 train.py --deepspeed ds_config.json");
  });

  it("launches across nodes with a hostfile past the preset's GPUs per node", () => {
    const { e } = run("BF16", { devices: 32, dp: 32, batch: 64, microBatch: 1, zero: 3 });
    expect(e.command).toBe(
      "deepspeed --hostfile hostfile --num_nodes 4 --num_gpus 8 train.py --deepspeed ds_config.json",
    );
  });

  it("uses fp16 or full fp32 when the weights say so", () => {
    expect(run("FP16").ds.fp16).toEqual({ enabled: true });
    const fp32 = run("FP32").ds;
    expect(fp32.bf16).toBeUndefined();
    expect(fp32.fp16).toBeUndefined();
  });
});
