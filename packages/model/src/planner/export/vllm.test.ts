// The vLLM export: every flag is a documented engine argument with a documented value, and every
// strategy is mapped or listed. Option names and choices: docs.vllm.ai/en/v0.6.3.post1/models/engine_args.html.
import { describe, expect, it } from "vitest";
import { parse } from "../../registry.js";
import { planCluster } from "../plan.js";
import { exportPlan } from "./index.js";

/** Flags of `vllm serve` (v0.6.3 engine args) this export may emit, with their choice sets (null: free). */
const DOCUMENTED: Record<string, readonly string[] | null> = {
  "--tensor-parallel-size": null,
  "--pipeline-parallel-size": null,
  "--dtype": ["auto", "half", "float16", "bfloat16", "float", "float32"],
  "--quantization": null, // v0.6.3 lists bitsandbytes among its choices (quantization/bnb.html)
  "--load-format": [
    "auto",
    "pt",
    "safetensors",
    "npcache",
    "dummy",
    "tensorizer",
    "sharded_state",
    "gguf",
    "bitsandbytes",
    "mistral",
  ],
  "--kv-cache-dtype": ["auto", "fp8", "fp8_e5m2", "fp8_e4m3"],
  "--block-size": ["8", "16", "32"],
  "--enable-prefix-caching": [],
  "--enable-lora": [],
  "--max-lora-rank": null,
  "--max-model-len": null,
  "--max-num-seqs": null,
  "--gpu-memory-utilization": null,
};

/** `--flag value` pairs of a command (flags without a value get ""). */
function flags(command: string): [string, string][] {
  const w = command.split(" ").slice(3);
  const out: [string, string][] = [];
  for (let i = 0; i < w.length; i++) {
    const f = w[i] as string;
    const next = w[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      out.push([f, next]);
      i++;
    } else out.push([f, ""]);
  }
  return out;
}

const serve = (config: string, extra: Partial<Parameters<typeof planCluster>[0]> = {}) => {
  const c = parse(config);
  const p = planCluster({
    model: "llama2-70b",
    config: c,
    hardware: "h100-80gb",
    devices: 8,
    workload: "serve",
    tp: 4,
    pp: 1,
    dp: 2,
    ...extra,
  });
  return { c, p, e: exportPlan("vllm", p, c, { utilization: 0.85 }) };
};

describe("exportPlan vllm", () => {
  it("emits only documented flags with documented values", () => {
    for (const cfg of [
      "NF4+GQA+Paged[block=16]+Flash",
      "BF16+KV[dtype=fp16]+LoRA[rank=12]",
      "Q4_0+Paged[block=8]",
    ]) {
      const { e } = serve(cfg);
      expect(e.command?.startsWith("vllm serve ./llama2-70b ")).toBe(true);
      for (const [f, v] of flags(e.command as string)) {
        expect(Object.keys(DOCUMENTED), f).toContain(f);
        const choices = DOCUMENTED[f];
        if (choices?.length) expect(choices, `${f} ${v}`).toContain(v);
        if (choices === null) expect(v, f).not.toBe("");
      }
    }
  });

  it("realises the layout, the workload and the strategies", () => {
    const { p, e } = serve("NF4+GQA+Paged[block=32]+LoRA[rank=12]");
    const f = Object.fromEntries(flags(e.command as string));
    expect(f["--tensor-parallel-size"]).toBe("4");
    expect(f["--pipeline-parallel-size"]).toBe("1");
    expect(f["--quantization"]).toBe("bitsandbytes");
    expect(f["--block-size"]).toBe("32");
    expect(f["--max-lora-rank"]).toBe("16"); // 12 rounds up to the next accepted rank
    expect(f["--max-model-len"]).toBe(String(2048 + 128));
    expect(f["--max-num-seqs"]).toBe(String(Math.floor((p.maxConcurrentSequences as number) / 2)));
    expect(f["--gpu-memory-utilization"]).toBe("0.85");
    expect(e.unsupported.map((u) => u.strategy)).toEqual(["layout dp=2"]);
  });

  it("lists what vLLM cannot express instead of dropping it", () => {
    const { c, e } = serve("INT8+KV[dtype=int8]+Paged[block=64]+Standard+Ckpt");
    const listed = e.unsupported.map((u) => u.strategy);
    for (const s of c.strategies) expect(listed).toContain(s.label);
    expect(e.command).not.toContain("--kv-cache-dtype");
    expect(e.command).not.toContain("--block-size");
    expect(e.unsupported.find((u) => u.strategy === "KV[dtype=int8]")?.reason).toContain("auto|fp8");
  });

  it("accounts for every strategy exactly once", () => {
    const { c, e } = serve("QLoRA+GQA+Flash+Paged+KV[dtype=fp16]");
    const seen = [...e.mapped, ...e.unsupported].map((m) => m.strategy);
    for (const s of c.strategies) expect(seen.filter((x) => x === s.label)).toHaveLength(1);
  });

  it("names the engines when one is unknown", () => {
    const { c, p } = serve("Baseline");
    expect(() => exportPlan("tgi", p, c)).toThrow(/unknown engine "tgi"; choose one of vllm/);
  });
});
