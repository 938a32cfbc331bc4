// DeepSpeed's docs/code-docs/source/memory.rst prints its estimators' tables for a 3B model
// (t5-3b: 2851M params, 32M largest layer) on 1 node × 8 GPUs (the "cold" estimators, GB = 2^30).
import { describe, expect, it } from "vitest";
import { deepspeedZero2, deepspeedZero3, largestLayerParams } from "./deepspeed.js";

const gb = (b: number) => (b / 2 ** 30).toFixed(2);
const base = { totalParams: 2851e6, largestLayerParams: 32e6, gpusPerNode: 8, nodes: 1 };

describe("DeepSpeed ZeRO-2/3 model-state estimators reproduce its published tables", () => {
  it("ZeRO-2, offload_optimizer=cpu: 127.45GB per CPU, 5.31GB per GPU", () => {
    const r = deepspeedZero2({ ...base, offloadOptimizer: true, offloadParams: false });
    expect([gb(r.cpuBytes), gb(r.gpuBytes)]).toEqual(["127.45", "5.31"]);
  });
  it("ZeRO-2, offload_optimizer=none: 127.45GB per CPU, 15.93GB per GPU", () => {
    const r = deepspeedZero2({ ...base, offloadOptimizer: false, offloadParams: false });
    expect([gb(r.cpuBytes), gb(r.gpuBytes)]).toEqual(["127.45", "15.93"]);
  });
  const z3: [boolean, boolean, boolean, string, string][] = [
    [true, true, true, "71.69", "0.12"],
    [true, true, false, "127.45", "0.12"],
    [false, true, true, "63.72", "0.78"],
    [false, true, false, "127.45", "0.78"],
    [false, false, true, "1.43", "6.09"],
    [false, false, false, "127.45", "6.09"],
  ];
  for (const [params, optim, init, cpu, gpu] of z3) {
    it(`ZeRO-3, offload_param=${params ? "cpu" : "none"}, offload_optimizer=${optim ? "cpu" : "none"}, zero_init=${init ? 1 : 0}: ${cpu}GB | ${gpu}GB`, () => {
      const r = deepspeedZero3({ ...base, offloadParams: params, offloadOptimizer: optim, zeroInit: init });
      expect([gb(r.cpuBytes), gb(r.gpuBytes)]).toEqual([cpu, gpu]);
    });
  }

  it("ZeRO-3 GPU memory in bytes: largest layer × 4 + ⌊18Ψ / GPUs⌋ (its docs' case 1)", () => {
    const r = deepspeedZero3({ ...base, offloadParams: false, offloadOptimizer: false });
    expect(r.gpuBytes).toBe(4 * 32e6 + Math.floor((18 * 2851e6) / 8));
    expect(r.largestLayerBytes).toBe(128e6);
  });

  it("several nodes: ZeRO-3 CPU memory per node scales by 1 / nodes", () => {
    const one = deepspeedZero3({ ...base, offloadParams: true, offloadOptimizer: true });
    const four = deepspeedZero3({ ...base, nodes: 4, offloadParams: true, offloadOptimizer: true });
    expect(four.cpuBytes).toBe(Math.floor(one.cpuBytes / 4));
  });
});

describe("largest layer as DeepSpeed counts it (one module's own parameters)", () => {
  it("Llama-2-70B: the 32000 × 8192 embedding", async () => {
    const { getPreset } = await import("../presets.js");
    expect(largestLayerParams(getPreset("llama2-70b").arch)).toBe(32000 * 8192);
  });
});
