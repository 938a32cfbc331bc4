// The Transformers + PEFT + bitsandbytes export: every keyword is a documented argument with a
// documented value. Sources: Transformers v4.53 docs (quantization/bitsandbytes: BitsAndBytesConfig;
// TrainingArguments and OptimizerNames in training_args.py; attn_implementation), PEFT LoraConfig.
import { describe, expect, it } from "vitest";
import { parse } from "../../registry.js";
import { planCluster } from "../plan.js";
import { exportPlan } from "./index.js";

const DOCUMENTED: Record<string, Record<string, readonly string[] | null>> = {
  BitsAndBytesConfig: {
    load_in_4bit: ["True"],
    load_in_8bit: ["True"],
    bnb_4bit_quant_type: ['"fp4"', '"nf4"'],
    bnb_4bit_use_double_quant: ["True", "False"],
    bnb_4bit_compute_dtype: ["torch.float16", "torch.bfloat16", "torch.float32"],
    llm_int8_threshold: null,
  },
  LoraConfig: { r: null, lora_alpha: null, target_modules: null, task_type: ['"CAUSAL_LM"'] },
  TrainingArguments: {
    per_device_train_batch_size: null,
    gradient_accumulation_steps: null,
    bf16: ["True"],
    gradient_checkpointing: ["True"],
    optim: ['"adamw_torch"', '"adamw_bnb_8bit"', '"adafactor"', '"sgd"', '"lion_32bit"'],
  },
  from_pretrained: {
    torch_dtype: ["torch.float32", "torch.float16", "torch.bfloat16"],
    attn_implementation: ['"eager"', '"sdpa"', '"flash_attention_2"'],
    quantization_config: ["bnb_config"],
    device_map: ['"auto"'],
  },
};

/** keyword=value pairs of `call(...)` in the snippet (the first positional argument skipped). */
function kwargs(code: string, call: string): Record<string, string> {
  const m = code.match(new RegExp(`${call}\\((.*?)\\)+$`, "m"));
  if (!m) return {};
  const out: Record<string, string> = {};
  for (const part of (m[1] as string).split(/, (?=\w+=)/)) {
    const eq = part.indexOf("=");
    if (eq > 0 && /^\w+$/.test(part.slice(0, eq))) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

const run = (config: string, workload: "train" | "infer" = "train") => {
  const c = parse(config);
  const p = planCluster({
    model: "llama2-7b",
    config: c,
    hardware: "a100-80gb",
    devices: 2,
    workload,
    tp: 1,
    pp: 1,
    dp: 2,
    ...(workload === "train" ? { batch: 16, microBatch: 2 } : {}),
  });
  return { c, p, e: exportPlan("hf", p, c) };
};

describe("exportPlan hf", () => {
  it("writes only documented keywords with documented values", () => {
    for (const cfg of ["QLoRA+Ckpt+Flash", "LLMInt8+LoRA[rank=16,alpha=32,targets=all]", "BF16+Standard"]) {
      const code = run(cfg).e.files?.[0]?.content as string;
      for (const [call, doc] of Object.entries(DOCUMENTED))
        for (const [k, v] of Object.entries(kwargs(code, call))) {
          expect(Object.keys(doc), `${call} ${k}`).toContain(k);
          const choices = doc[k];
          if (choices) expect(choices, `${call} ${k}=${v}`).toContain(v);
        }
    }
  });

  it("realises QLoRA training: nf4 with double quant, LoRA rank/alpha/targets, checkpointing, batch split", () => {
    const { e } = run("QLoRA+Ckpt+Flash");
    const code = e.files?.[0]?.content as string;
    expect(kwargs(code, "BitsAndBytesConfig")).toMatchObject({
      load_in_4bit: "True",
      bnb_4bit_quant_type: '"nf4"',
      bnb_4bit_use_double_quant: "True",
    });
    expect(kwargs(code, "LoraConfig")).toMatchObject({
      r: "8",
      lora_alpha: "16",
      target_modules: '["q_proj", "v_proj"]',
    });
    // 16 sequences = micro-batch 2 × 4 accumulation steps × dp 2
    expect(kwargs(code, "TrainingArguments")).toMatchObject({
      per_device_train_batch_size: "2",
      gradient_accumulation_steps: "4",
      gradient_checkpointing: "True",
      optim: '"adamw_torch"',
    });
    expect(e.command).toBe("torchrun --nproc_per_node 2 train.py");
    expect(e.unsupported).toEqual([]);
  });

  it("lists what bitsandbytes and Transformers cannot express", () => {
    const { c, e } = run("KV[dtype=int8]+Paged+NF4[block=128]", "infer");
    const listed = e.unsupported.map((u) => u.strategy);
    for (const s of c.strategies) expect(listed).toContain(s.label);
    expect(e.files?.[0]?.content).not.toContain("BitsAndBytesConfig(");
    expect(run("INT4+Ckpt", "infer").e.unsupported.map((u) => u.strategy)).toEqual([
      "INT4[group=32]",
      "Ckpt",
      "layout dp=2",
    ]);
  });
});
