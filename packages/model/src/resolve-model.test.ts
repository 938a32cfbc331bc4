import { fileURLToPath } from "node:url";
import { ValueError } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { estimate } from "./estimator.js";
import { planCluster } from "./planner/index.js";
import { getPreset } from "./presets.js";
import { parse } from "./registry.js";
import { resolveModel } from "./resolve-model.js";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/hf/", import.meta.url));
const infer = { kind: "infer", batch: 1, seq: 1024, generate: 0 } as const;

describe("resolveModel: a preset name or a config.json path", () => {
  it("a preset by name, any case, with its notes (none: every published family is counted exactly)", () => {
    const r = resolveModel("Qwen2.5-7B");
    expect(r).toMatchObject({
      name: "qwen2.5-7b",
      model: "qwen2.5-7b",
      source: "preset",
      missingParams: 0,
    });
    expect(r.arch).toBe(getPreset("qwen2.5-7b").arch);
    expect(r.notes).toEqual([]);
    expect(resolveModel("llama2-7b").notes).toEqual([]);
  });

  it("a config.json file, or the folder holding one, estimates like the matching preset", () => {
    const file = resolveModel(`${FIXTURES}mixtral-8x22b/config.json`);
    const dir = resolveModel(`${FIXTURES}mixtral-8x22b`);
    expect(file.source).toBe("config.json");
    expect(dir.arch).toEqual(file.arch);
    expect(file.name).toBe("mixtral-8x22b");
    const fromFile = estimate(file.model, parse("Baseline"), infer);
    const fromPreset = estimate("mixtral-8x22b", parse("Baseline"), infer);
    expect(fromFile.params).toEqual(fromPreset.params);
    expect(fromFile.bytes.kv).toBe(fromPreset.bytes.kv);
    expect(resolveModel(`${FIXTURES}deepseek-v2-lite`).notes.join("\n")).toMatch(/576-element latent/);
  });

  it("plans a config.json model on many devices as it plans the matching preset", () => {
    const request = { config: parse("Baseline"), hardware: "h100-80gb", devices: 4, tp: 4 } as const;
    const fromFile = planCluster({ ...request, model: resolveModel(`${FIXTURES}qwen2.5-7b`).model });
    const fromPreset = planCluster({ ...request, model: "qwen2.5-7b" });
    expect(fromFile.model).toBe("qwen2.5-7b");
    expect(fromFile.perDevice.total).toBeGreaterThan(7e9 / 4);
    expect(fromFile.perDevice).toEqual(fromPreset.perDevice);
  });

  it("an unknown name gets a ValueError naming the closest preset, all presets and the families", () => {
    try {
      resolveModel("qwen2.5-7");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValueError);
      const m = (e as Error).message;
      expect(m).toMatch(/unknown model 'qwen2\.5-7' \(did you mean 'qwen2\.5-7b'\?\)/);
      expect(m).toMatch(/presets: tiny, small, .*mixtral-8x22b/);
      expect(m).toMatch(/config\.json \(model_type llama, .*deepseek_v2\)/);
    }
    expect(() => resolveModel("./missing/config.json")).toThrow(/cannot read \.\/missing\/config\.json/);
  });
});
