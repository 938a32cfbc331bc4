// A sliding window the configuration sets (`Flash[window=4096]`) is one no engine export can realise
// (each engine takes the window from the model it loads): listed, never dropped.
import { describe, expect, it } from "vitest";
import { parse } from "../../registry.js";
import { planCluster } from "../plan.js";
import { EXPORT_ENGINE_NAMES, exportPlan } from "./index.js";

const exported = (engine: string, config: string) => {
  const c = parse(config);
  const p = planCluster({
    model: "llama2-7b",
    config: c,
    hardware: "a100-80gb",
    devices: 1,
    workload: engine === "deepspeed" || engine === "hf" ? "train" : "serve",
    tp: 1,
    pp: 1,
    dp: 1,
  });
  return exportPlan(engine, p, c);
};

describe("engine exports of an attention strategy's own window", () => {
  for (const engine of EXPORT_ENGINE_NAMES) {
    for (const attention of ["Flash[window=4096]", "Standard[window=4096]"]) {
      it(`${engine}: ${attention} is listed with the window named, not mapped`, () => {
        const e = exported(engine, attention);
        const label = parse(attention).strategies[0]!.label;
        expect(e.mapped.map((m) => m.strategy)).not.toContain(label);
        const listed = e.unsupported.find((u) => u.strategy === label);
        expect(listed).toBeDefined();
        if (engine !== "deepspeed") expect(listed!.reason).toContain("window=4096");
      });
    }
  }

  it("without a window Flash still maps where it did (llama.cpp: -fa on)", () => {
    const e = exported("llamacpp", "Flash");
    expect(e.mapped.map((m) => m.strategy)).toContain("Flash[block=64]");
    expect(e.command).toContain("-fa on");
    expect(exported("llamacpp", "Flash[window=4096]").command).not.toContain("-fa on");
  });
});
