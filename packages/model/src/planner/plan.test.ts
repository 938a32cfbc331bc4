import { ValueError } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { estimate } from "../estimator.js";
import { parse } from "../registry.js";
import { edgeActivation, layerActivation } from "./activations.js";
import { deepspeedZero3, largestLayerParams } from "./deepspeed.js";
import { type Evaluation, evaluateLayout, layoutFootprint } from "./evaluate.js";
import { getDevice } from "./hardware.js";
import { stageLayers } from "./layout.js";
import { type PlanWorkloadSpec, stageMemory } from "./memory.js";
import { deviceWeights, modelFacts } from "./model-facts.js";
import { largestFitting, planCluster, smallestPlan } from "./plan.js";
import { searchLayouts, smallestFit } from "./search.js";
import { expectedExpertsRead } from "./time.js";

const base = { model: "llama2-70b" as const, config: parse("Baseline"), hardware: "h100-80gb" };

describe("planner: the layout's share of the weights", () => {
  for (const name of [
    "llama2-70b",
    "gpt3-175b",
    "mixtral-8x7b",
    "gpt2",
    "qwen1.5-moe-a2.7b",
    "gemma2-9b",
    "deepseek-moe-16b",
    "deepseek-v2-lite",
  ] as const) {
    it(`${name}: one device holds exactly the estimator's weights; pipeline stages sum to them`, () => {
      const f = modelFacts(name, parse("Baseline"));
      const total = estimate(name, parse("Baseline"), { kind: "infer", batch: 1, seq: 16, generate: 0 }).bytes
        .weights;
      expect(deviceWeights(f, 1, f.arch.layers, true, true).bytes).toBeCloseTo(total, 0);
      const pp = 4;
      const stages = stageLayers(f.arch.layers, pp).map(
        (l, i) => deviceWeights(f, 1, l, i === 0, i === pp - 1).bytes,
      );
      // A tied head is a second copy on the last stage (Megatron-LM keeps one per end).
      const tiedCopy = f.arch.tiedEmbeddings ? f.arch.vocab * f.arch.dModel * f.baseBytes : 0;
      expect(stages.reduce((s, b) => s + b, 0)).toBeCloseTo(total + tiedCopy, 0);
    });
  }

  it("NF4 weights: the per-parameter rate comes from the estimator, so one device matches it too", () => {
    const f = modelFacts("llama2-70b", parse("NF4"));
    const total = estimate("llama2-70b", parse("NF4"), { kind: "infer", batch: 1, seq: 16, generate: 0 })
      .bytes.weights;
    expect(deviceWeights(f, 1, 80, true, true).bytes).toBeCloseTo(total, 0);
    expect(f.linearBytesPerParam).toBeGreaterThan(0.5);
    expect(f.linearBytesPerParam).toBeLessThan(0.6);
  });
});

describe("planner: ZeRO, offload and sequence parallelism per device", () => {
  const f = modelFacts("llama2-70b", parse("Baseline"));
  const h100 = getDevice("h100-80gb");
  const w = { kind: "train" as const, batch: 64, seq: 4096, generate: 0, microBatch: 1 };
  const o = { recompute: "full" as const, dropout: false };
  const at = (zero: 0 | 1 | 2 | 3, offload: "none" | "optimizer" | "optimizer+params" = "none") =>
    stageMemory(f, { tp: 8, pp: 1, dp: 8, zero, offload, sp: true }, h100, w, o, 0);

  it("ZeRO-1 shards optimizer states, ZeRO-2 also gradients, ZeRO-3 also parameters (÷ dp)", () => {
    const [z0, z1, z2, z3] = [at(0), at(1), at(2), at(3)];
    expect(z1.bytes.optim).toBeCloseTo(z0.bytes.optim / 8, 0);
    expect(z1.bytes.grad).toBe(z0.bytes.grad);
    expect(z2.bytes.grad).toBeCloseTo(z0.bytes.grad / 8, 0);
    expect(z2.bytes.weights).toBe(z0.bytes.weights);
    expect(z3.bytes.weights).toBeCloseTo(z0.bytes.weights / 8, 0);
    expect(z3.bytes.tmp).toBeGreaterThan(z2.bytes.tmp); // the gathered layer
  });

  it("mixed precision: 2 B/param grads and 12 B/param optimizer states on the device's parameters", () => {
    const z0 = at(0);
    const params = deviceWeights(f, 8, 80, true, true).params;
    expect(z0.bytes.grad).toBeCloseTo(2 * params, -3);
    expect(z0.bytes.optim).toBeCloseTo(12 * params, -3);
  });

  it("offloading the optimizer moves its states (and fp32 grads) to the host; params too with optimizer+params", () => {
    const z3 = at(3);
    const off = at(3, "optimizer");
    expect(off.bytes.optim).toBe(0);
    expect(off.cpuBytes).toBeCloseTo(z3.bytes.optim + 2 * z3.bytes.grad, 0);
    const both = at(3, "optimizer+params");
    expect(both.bytes.weights).toBe(0);
    expect(both.cpuBytes).toBeCloseTo(off.cpuBytes + z3.bytes.weights, 0);
  });

  it("sequence parallelism cuts activations", () => {
    const l = { tp: 8, pp: 1, dp: 8, zero: 1 as const, offload: "none" as const };
    const none = { recompute: "none" as const, dropout: false };
    const sp = stageMemory(f, { ...l, sp: true }, h100, w, none, 0).bytes.act;
    const noSp = stageMemory(f, { ...l, sp: false }, h100, w, none, 0).bytes.act;
    expect(sp).toBeLessThan(noSp);
  });

  it("pipeline: the first stage holds pp micro-batches in flight (1F1B), the last one plus the head's", () => {
    const l = { tp: 8, pp: 4, dp: 2, zero: 1 as const, offload: "none" as const, sp: true };
    const none = { recompute: "none" as const, dropout: false };
    const first = stageMemory(f, l, h100, w, none, 0);
    const last = stageMemory(f, l, h100, w, none, 3);
    const a = {
      seq: 4096,
      microBatch: 1,
      tp: 8,
      sp: true,
      recompute: "none" as const,
      flash: false,
      dropout: false,
    };
    const per = layerActivation(f.arch, a).total;
    expect(first.layers).toBe(20);
    expect(first.bytes.act).toBeCloseTo(20 * per * 4, 0);
    expect(last.bytes.act).toBeCloseTo(20 * per + edgeActivation(f.arch, a, false, true), 0);
  });
});

describe("planner: time", () => {
  it("MoE decode reads E·(1−(1−k/E)^B) distinct experts per layer", () => {
    expect(expectedExpertsRead(8, 2, 1)).toBe(2);
    expect(expectedExpertsRead(8, 2, 2)).toBeCloseTo(8 * (1 - 0.75 ** 2), 12);
    expect(expectedExpertsRead(8, 2, 1000)).toBeCloseTo(8, 6);
    expect(expectedExpertsRead(1, 1, 64)).toBe(1);
  });

  it("Mixtral at batch 1 reads about 26 GB per token, not the 94 GB of every expert", () => {
    const p = planCluster({ ...base, model: "mixtral-8x7b", hardware: "h200", devices: 1 });
    expect(p.time.expertsRead).toBe(2);
    expect(p.time.decodeBytesPerToken / 1e9).toBeGreaterThan(25);
    expect(p.time.decodeBytesPerToken / 1e9).toBeLessThan(27);
    expect(p.time.bound).toBe("memory");
  });

  it("decode on more tensor-parallel devices is faster; a train step pays the 1F1B bubble", () => {
    const t1 = planCluster({ ...base, devices: 2, tp: 2 }).time.decodeMsPerToken;
    const t8 = planCluster({ ...base, devices: 8, tp: 8 }).time.decodeMsPerToken;
    expect(t8).toBeLessThan(t1);
    // 1F1B: (m + pp − 1) micro-batch slots, each 1/pp of the model: 8 micro-batches on pp = 2
    // take 9/16 of the compute time of pp = 1.
    const compute = (pp: number) => {
      const t = planCluster({ ...base, workload: "train", devices: 8 * pp, tp: 8, pp, dp: 1, batch: 8 }).time;
      return t.trainStepMs - t.commMs;
    };
    expect(compute(2) / compute(1)).toBeCloseTo(9 / 16, 6);
  });
});

describe("planner: search and input errors", () => {
  it("without tp/pp/dp: every candidate is a valid layout, fitting ones first, each group by time", () => {
    const p = planCluster({ ...base, devices: 8 });
    expect(p.candidates.length).toBeGreaterThan(3);
    for (const c of p.candidates) expect(c.layout.tp * c.layout.pp * c.layout.dp).toBe(8);
    const firstMiss = p.candidates.findIndex((c) => !c.fits);
    const fitting = firstMiss === -1 ? p.candidates : p.candidates.slice(0, firstMiss);
    for (let i = 1; i < fitting.length; i++)
      expect(fitting[i]!.time.prefillMs + 128 * fitting[i]!.time.decodeMsPerToken).toBeGreaterThanOrEqual(
        fitting[i - 1]!.time.prefillMs + 128 * fitting[i - 1]!.time.decodeMsPerToken - 1e-9,
      );
    expect(p.layout).toEqual(p.candidates[0]!.layout);
  });

  it("when nothing fits, the layout needing the least memory leads", () => {
    const p = planCluster({
      ...base,
      model: "gpt3-175b",
      hardware: "rtx-3090",
      devices: 4,
      workload: "train",
    });
    expect(p.perDevice.fits).toBe(false);
    const totals = p.candidates.map((c) => c.perDeviceTotal);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
  });

  it("llama2-70b in fp16 does not fit one 80 GiB device; the smallest count that does is 2", () => {
    const p = planCluster({ ...base, hardware: "a100-80gb", devices: 1 });
    expect(p.perDevice.fits).toBe(false);
    expect(p.smallestFit?.devices).toBe(2);
  });

  it("the largest batch and context reported fit, one more does not", () => {
    const p = planCluster({ ...base, devices: 8, tp: 8 });
    expect(planCluster({ ...base, devices: 8, tp: 8, batch: p.maxBatch }).perDevice.fits).toBe(true);
    expect(planCluster({ ...base, devices: 8, tp: 8, batch: p.maxBatch + 1 }).perDevice.fits).toBe(false);
    expect(planCluster({ ...base, devices: 8, tp: 8, seq: p.maxSeq + 1 }).perDevice.fits).toBe(false);
  });

  it("largestFitting finds the boundary", () => {
    expect(largestFitting((n) => n <= 37, 1000)).toBe(37);
    expect(largestFitting((n) => n <= 1000, 1000)).toBe(1000);
    expect(largestFitting(() => false, 10)).toBe(0);
  });

  it("bad input is one line naming the value: product ≠ devices, tp not dividing heads, unknown preset", () => {
    const one = (f: () => unknown, re: RegExp) => {
      expect(f).toThrow(ValueError);
      expect(f).toThrow(re);
      try {
        f();
      } catch (e) {
        expect((e as Error).message).not.toContain("\n");
      }
    };
    one(
      () => planCluster({ ...base, devices: 8, tp: 2, pp: 2, dp: 1 }),
      /tp=2 × pp=2 × dp=1 = 4 devices, but --gpus is 8/,
    );
    one(
      () => planCluster({ ...base, devices: 6, tp: 6, pp: 1, dp: 1 }),
      /--tp 6 does not divide llama2-70b's 64 attention heads/,
    );
    one(() => planCluster({ ...base, hardware: "h100-90gb", devices: 8 }), /unknown hardware 'h100-90gb'/);
    one(
      () => planCluster({ ...base, devices: 8, tp: 8, zero: 2 }),
      /--zero 2 shards training state; infer takes --zero 0/,
    );
  });
});

describe("planner: DeepSpeed convention", () => {
  it("reproduces estimate_zero3_model_states_mem_needs for the preset's parameter counts", () => {
    const p = planCluster({ ...base, workload: "train", devices: 16, zero: 3, convention: "deepspeed" });
    const f = modelFacts("llama2-70b", parse("Baseline"));
    const ds = deepspeedZero3({
      totalParams: f.params.total,
      largestLayerParams: largestLayerParams(f.arch),
      gpusPerNode: 8,
      nodes: 2,
      offloadOptimizer: false,
      offloadParams: false,
    });
    expect(p.perDevice.total).toBe(ds.gpuBytes);
    const b = p.perDevice.bytes;
    expect(b.weights + b.adapters + b.kv + b.act + b.grad + b.optim + b.tmp + b.overhead).toBe(ds.gpuBytes);
    expect(p.cpuBytesPerNode).toBe(ds.cpuBytes);
  });

  it("covers data parallelism only", () => {
    expect(() =>
      planCluster({
        ...base,
        workload: "train",
        devices: 16,
        tp: 8,
        dp: 2,
        zero: 3,
        convention: "deepspeed",
      }),
    ).toThrow(/data parallelism only/);
  });
});

describe("planner: configuration problems and hardware files", () => {
  it("a configuration that does not fit the architecture is one ValueError line", () => {
    expect(() => planCluster({ ...base, config: parse("GQA[kvHeads=3]"), devices: 8 })).toThrow(/kvHeads/);
  });

  it("a hardware JSON file: read, validated, used", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { resolveDevice } = await import("./device-file.js");
    const dir = mkdtempSync(join(tmpdir(), "plan-"));
    const good = join(dir, "b200.json");
    writeFileSync(
      good,
      JSON.stringify({ name: "b200", memoryBytes: 192e9, bandwidth: 8e12, flops: { bf16: 2.25e15 } }),
    );
    expect(planCluster({ ...base, hardware: resolveDevice(good), devices: 1 }).hardware).toBe("b200");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ nope");
    expect(() => resolveDevice(bad)).toThrow(/not valid JSON/);
    expect(() => resolveDevice(join(dir, "missing.json"))).toThrow(/cannot read hardware file/);
  });
});

describe("planner: smallestPlan (for the default projection)", () => {
  it("llama2-70b fp16 inference on A100-80GB: 2 devices, fitting; NF4 fits 1", () => {
    const p = smallestPlan({ ...base, hardware: "a100-80gb", seq: 4096 });
    expect(p?.devices).toBe(2);
    expect(p?.perDevice.fits).toBe(true);
    expect(smallestPlan({ ...base, config: parse("NF4"), hardware: "a100-80gb", seq: 4096 })?.devices).toBe(
      1,
    );
  });
});

describe("planner: searching by footprint first", () => {
  const o = {
    recompute: "none",
    dropout: false,
    precision: "bf16",
    headroom: 0.05,
    utilization: 0.9,
    convention: "tradeoffs",
    zeroInit: true,
  } as const;
  const cases = [
    ["llama2-70b", "Baseline", "infer"],
    ["llama2-70b", "NF4", "train"],
    ["mixtral-8x7b", "MoE[experts=8,topK=2]", "train"],
    ["llama2-7b", "Paged", "serve"],
    ["llama2-70b", "GQA[kvHeads=2]+INT8", "serve"],
  ] as const;
  for (const [model, config, kind] of cases) {
    it(`${model} ${config} ${kind}: smallestFit is the first fitting layout of searchLayouts at the first count where one fits`, () => {
      const f = modelFacts(model, parse(config));
      const device = getDevice("a100-80gb");
      const w = { kind, batch: 1, seq: 4096, generate: kind === "train" ? 0 : 128, microBatch: 1 };
      const fast = smallestFit(f, device, w, o);
      // the search it replaces: every layout fully evaluated at each count it tries (1–8, then
      // whole 8-device nodes), in order
      let slow: Evaluation | null = null;
      for (let n = 1; n <= 4096 && !slow; n += n < 8 ? 1 : 8) {
        const best = searchLayouts(f, device, n, w, o)[0];
        if (best?.fits) slow = best;
      }
      expect(fast).not.toBeNull();
      expect(fast).toEqual(slow);
      // and the footprint is the evaluation's memory side
      const l = fast!.layout;
      const n = l.tp * l.pp * l.dp;
      const { layout, time, rankMs, ...memorySide } = evaluateLayout(f, l, device, n, w, o);
      expect(layoutFootprint(f, l, device, n, w, o)).toEqual(memorySide);
    });
  }

  it("deviceWeights gives each facts object its own shares, the same on every call", () => {
    const a = modelFacts("llama2-70b", parse("Baseline"));
    const b = modelFacts("llama2-70b", parse("NF4"));
    const first = deviceWeights(a, 2, 40, true, false);
    expect(deviceWeights(a, 2, 40, true, false)).toEqual(first);
    expect(deviceWeights(b, 2, 40, true, false).bytes).toBeLessThan(first.bytes / 3);
    expect(deviceWeights(a, 2, 40, false, false).bytes).toBeLessThan(first.bytes);
  });

  it("a plan's largest batch and sequence are the same read lazily, in JSON or in a copy", () => {
    const p = planCluster({ ...base, devices: 4, seq: 4096 });
    const json = JSON.parse(JSON.stringify(p)) as { maxBatch: number; maxSeq: number };
    const f = modelFacts(base.model, base.config);
    const w = { kind: "infer", batch: 1, seq: 4096, generate: 128, microBatch: 1 } as const;
    const fits = (ws: PlanWorkloadSpec) =>
      layoutFootprint(f, p.layout, getDevice(base.hardware), 4, ws, o).fits;
    const batch = largestFitting((b) => fits({ ...w, batch: b }), 1 << 20);
    expect(batch).toBeGreaterThan(1);
    expect(json.maxBatch).toBe(batch);
    expect({ ...p }.maxBatch).toBe(batch);
    expect(p.maxSeq).toBe(largestFitting((s) => fits({ ...w, seq: s }), 1 << 24));
    expect(json.maxSeq).toBe(p.maxSeq);
  });
});
