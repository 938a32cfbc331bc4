// The llama.cpp export: every flag is a documented llama-server option with a documented value, the
// GGUF type follows the weights, and unsupported strategies are listed. Names and values:
// ggml-org/llama.cpp tools/server/README.md (2025 builds: `-fa, --flash-attn [on|off|auto]`).
import { describe, expect, it } from "vitest";
import { parse } from "../../registry.js";
import { planCluster } from "../plan.js";
import { exportPlan } from "./index.js";

/** llama-server options this export may emit, with their value sets (null: a number or a path). */
const DOCUMENTED: Record<string, readonly string[] | null> = {
  "-m": null,
  "-c": null,
  "-np": null,
  "-ngl": null,
  "-sm": ["none", "layer", "row"],
  "-ctk": ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"],
  "-ctv": ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"],
  "-fa": ["on", "off", "auto"],
  "--lora": null,
};
/** GGUF tensor types of the weights formats (ggml.h `ggml_type` names). */
const GGUF_TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0"];

const pairs = (command: string): [string, string][] => {
  const w = command.split(" ").slice(1);
  const out: [string, string][] = [];
  for (let i = 0; i < w.length; i += 2) out.push([w[i] as string, w[i + 1] as string]);
  return out;
};

const run = (config: string, extra: Partial<Parameters<typeof planCluster>[0]> = {}) => {
  const c = parse(config);
  const p = planCluster({
    model: "llama2-7b",
    config: c,
    hardware: "rtx-4090",
    devices: 1,
    tp: 1,
    pp: 1,
    dp: 1,
    ...extra,
  });
  return { c, p, e: exportPlan("llamacpp", p, c) };
};

describe("exportPlan llamacpp", () => {
  it("emits documented flags with documented values, and the GGUF type of the weights", () => {
    for (const [cfg, type] of [
      ["Q4_0+Flash+KV[dtype=fp16]", "Q4_0"],
      ["Q8_0+Standard", "Q8_0"],
      ["BF16", "BF16"],
      ["FP16+KV[dtype=int8]+Flash", "F16"],
      ["Baseline", "F32"],
    ] as const) {
      const { e } = run(cfg);
      const f = pairs(e.command as string);
      for (const [k, v] of f) {
        expect(Object.keys(DOCUMENTED), k).toContain(k);
        const choices = DOCUMENTED[k];
        if (choices) expect(choices, `${k} ${v}`).toContain(v);
        else expect(v, k).toMatch(/\S/);
      }
      const file = Object.fromEntries(f)["-m"] as string;
      expect(GGUF_TYPES).toContain(type);
      expect(file).toBe(`llama2-7b-${type}.gguf`);
    }
  });

  it("sizes context, slots and GPU layers from the plan", () => {
    const { e } = run("Q4_0+Flash", { seq: 1000, generate: 24, batch: 4 });
    const f = Object.fromEntries(pairs(e.command as string));
    expect(f["-c"]).toBe(String(4 * 1024));
    expect(f["-np"]).toBe("4");
    expect(f["-ngl"]).toBe("33"); // Llama 2 7B: 32 layers + the output layer
    expect(f["-fa"]).toBe("on");
  });

  it("splits by row under tensor parallelism and by layer under pipeline parallelism", () => {
    expect(run("Q4_0", { devices: 2, tp: 2 }).e.command).toContain("-sm row");
    expect(run("Q4_0", { devices: 2, pp: 2 }).e.command).toContain("-sm layer");
  });

  it("lists NF4, Paged and Ckpt, and maps int8 KV to q8_0 with the difference stated", () => {
    const { c, e } = run("NF4+Paged+Ckpt+KV[dtype=int8]");
    const listed = e.unsupported.map((u) => u.strategy);
    for (const label of ["NF4[block=64,dq=true]", "Paged[block=16]", "Ckpt"]) expect(listed).toContain(label);
    expect(e.command).toContain("-m llama2-7b-F16.gguf");
    const kv = e.mapped.find((m) => m.strategy === "KV[dtype=int8]");
    expect(kv?.as).toMatch(/-ctk q8_0 -ctv q8_0 .*not one f32 scale per vector.*needs -fa on/);
    const seen = [...e.mapped, ...e.unsupported].map((m) => m.strategy);
    for (const s of c.strategies) expect(seen).toContain(s.label);
  });
});
