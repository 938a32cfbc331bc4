/**
 * Export a plan to Hugging Face Transformers + PEFT + bitsandbytes: a Python snippet that loads the
 * model (BitsAndBytesConfig, torch_dtype, attn_implementation) and, for training, builds LoraConfig
 * and TrainingArguments. Names follow the Transformers v4.53 bitsandbytes and TrainingArguments docs
 * and PEFT's LoraConfig. Not a trainer: it prints code for the user to run.
 */

import type { Configuration } from "@tradeoffs/core-tensor";
import type { OptimizerName } from "../../optim/registry.js";
import type { ClusterPlan } from "../plan.js";
import {
  account,
  architectureHandlers,
  type Decision,
  type EngineExport,
  type Handlers,
  ownWindow,
  type Unsupported,
} from "./result.js";

/**
 * Our LoRA target names → the module names of Llama-family models in Transformers
 * (modeling_llama.py: q_proj, k_proj, v_proj, o_proj; gate_proj, up_proj, down_proj).
 */
export const HF_LORA_MODULES: Readonly<Record<string, string>> = {
  q: "q_proj",
  k: "k_proj",
  v: "v_proj",
  o: "o_proj",
  gate: "gate_proj",
  up: "up_proj",
  down: "down_proj",
};

/** Our targets option → the target names (packages/quant lora.ts LORA_TARGETS). */
const TARGETS: Readonly<Record<string, readonly string[]>> = {
  qv: ["q", "v"],
  qk: ["q", "k"],
  qkv: ["q", "k", "v"],
  qkvo: ["q", "k", "v", "o"],
  ffn: ["gate", "up", "down"],
  all: ["q", "k", "v", "o", "gate", "up", "down"],
};

/**
 * Optimizer strategy names → TrainingArguments `optim` values (Transformers `OptimizerNames`:
 * adamw_torch, adamw_bnb_8bit, adafactor, sgd, lion_32bit).
 */
export const HF_OPTIMIZERS: Readonly<Record<string, string>> = {
  AdamW: "adamw_torch",
  AdamW8bit: "adamw_bnb_8bit",
  Adafactor: "adafactor",
  SGD: "sgd",
  Lion: "lion_32bit",
};

/** The CLI's `--optim` names → the optimizer strategy names `HF_OPTIMIZERS` and the other engines key on. */
const PLAN_OPTIMIZER_STRATEGY: Readonly<Record<OptimizerName, string>> = {
  adamw: "AdamW",
  adamw8bit: "AdamW8bit",
  adafactor: "Adafactor",
  sgd: "SGD",
  lion: "Lion",
};

/** Python keyword arguments gathered from the strategies. */
interface Py {
  bnb: string[];
  model: string[];
  lora: string[];
  args: string[];
  optim: string | undefined;
}

const py = (v: unknown): string =>
  typeof v === "boolean" ? (v ? "True" : "False") : typeof v === "string" ? JSON.stringify(v) : String(v);

/** Add a keyword argument and report it as what realises the strategy. */
const kw = (list: string[], item: string, note = ""): Decision => {
  list.push(item);
  return { as: `${item}${note}` };
};

const handlers = (p: Py, train: boolean): Handlers => ({
  ...architectureHandlers,
  FP32: () => kw(p.model, "torch_dtype=torch.float32"),
  // FP32x8's values with the layout ours; its weights stay frozen, which a plain f32 fine-tune is not
  FP32x8: () =>
    train
      ? {
          unsupported: "FP32x8 keeps the weights frozen; a Transformers f32 fine-tune trains them (use FP32)",
        }
      : kw(p.model, "torch_dtype=torch.float32"),
  FP16: () => kw(p.model, "torch_dtype=torch.float16"),
  BF16: () => kw(p.model, "torch_dtype=torch.bfloat16"),
  // Transformers bitsandbytes docs: load_in_4bit, bnb_4bit_quant_type ("fp4" | "nf4"),
  // bnb_4bit_use_double_quant, bnb_4bit_compute_dtype. The blocksize is bitsandbytes' 64, not settable.
  NF4: (s) => {
    if (Number(s.options.block) !== 64)
      return {
        unsupported: `BitsAndBytesConfig quantises NF4 in blocks of 64; block=${String(s.options.block)} is not settable`,
      };
    p.bnb.push(
      "load_in_4bit=True",
      'bnb_4bit_quant_type="nf4"',
      `bnb_4bit_use_double_quant=${py(s.options.dq === true)}`,
      "bnb_4bit_compute_dtype=torch.bfloat16",
    );
    return {
      as: `BitsAndBytesConfig(load_in_4bit, nf4, double quant ${s.options.dq === true ? "on" : "off"})`,
    };
  },
  // Transformers bitsandbytes docs: load_in_8bit, llm_int8_threshold (default 6.0).
  LLMInt8: (s) => {
    p.bnb.push("load_in_8bit=True", `llm_int8_threshold=${Number(s.options.threshold).toFixed(1)}`);
    return { as: `BitsAndBytesConfig(load_in_8bit, llm_int8_threshold=${String(s.options.threshold)})` };
  },
  INT8: () => ({
    unsupported: "round-to-nearest int8 without outlier columns: bitsandbytes' 8-bit is LLM.int8()",
  }),
  INT4: () => ({
    unsupported: "grouped round-to-nearest int4: BitsAndBytesConfig's 4-bit types are fp4 and nf4",
  }),
  Q8_0: () => ({
    unsupported: "Transformers dequantises GGUF files on load (gguf_file=); Q8_0 does not stay 8-bit",
  }),
  Q4_0: () => ({
    unsupported: "Transformers dequantises GGUF files on load (gguf_file=); Q4_0 does not stay 4-bit",
  }),
  // Transformers attention docs: attn_implementation "eager" | "sdpa" | "flash_attention_2".
  Flash: (s) =>
    ownWindow(s, "Transformers", "the model's config.json (sliding_window)") ??
    kw(p.model, 'attn_implementation="flash_attention_2"'),
  Standard: (s) =>
    ownWindow(s, "Transformers", "the model's config.json (sliding_window)") ??
    kw(p.model, 'attn_implementation="eager"'),
  KV: (s) =>
    s.options.dtype === "int8"
      ? {
          unsupported:
            'Transformers\' quantized KV cache (cache_implementation="quantized") holds 2- or 4-bit, not int8',
        }
      : { as: `the KV cache follows torch_dtype (${String(s.options.dtype)})` },
  Contiguous: () => ({ as: "Transformers' DynamicCache (contiguous per layer; the default)" }),
  Paged: () => ({ unsupported: "generate() keeps a contiguous DynamicCache; no block-paged KV cache" }),
  LoRA: (s) => {
    const names = (TARGETS[String(s.options.targets)] ?? []).map((t) => HF_LORA_MODULES[t] as string);
    p.lora.push(
      `r=${String(s.options.rank)}`,
      `lora_alpha=${String(s.options.alpha)}`,
      `target_modules=[${names.map((n) => JSON.stringify(n)).join(", ")}]`,
      'task_type="CAUSAL_LM"',
    );
    return {
      as: `LoraConfig(r=${String(s.options.rank)}, lora_alpha=${String(s.options.alpha)}, target_modules=${names.join("+")}; Llama module names)`,
    };
  },
  None: () => ({ as: "gradient_checkpointing=False (the default)" }),
  Ckpt: (s) => {
    if (!train) return { unsupported: "activation checkpointing only matters in training; this plan infers" };
    p.args.push("gradient_checkpointing=True");
    const policy = String(s.options.policy);
    return {
      as: `gradient_checkpointing=True (every decoder layer${policy === "auto" || policy === "all" ? "" : `; our policy ${policy} chooses fewer layers, HF checkpoints all`})`,
    };
  },
  ...Object.fromEntries(
    Object.entries(HF_OPTIMIZERS).map(([name, optim]) => [
      name,
      (): Decision => {
        p.optim = optim;
        return { as: `optim="${optim}"` };
      },
    ]),
  ),
});

/** A Transformers + PEFT + bitsandbytes snippet that realises `plan` with `config`, and what it cannot. */
export function exportHf(
  plan: ClusterPlan,
  config: Configuration,
  opts: { model?: string } = {},
): EngineExport {
  const train = plan.workload.kind === "train";
  const p: Py = { bnb: [], model: [], lora: [], args: [], optim: undefined };
  const { mapped, unsupported } = account("Transformers", config, handlers(p, train));
  const extra: Unsupported[] = [];
  const l = plan.layout;
  const w = plan.workload;
  const id = opts.model ?? `./${plan.model}`;
  const lines = ["import torch", "from transformers import AutoModelForCausalLM, BitsAndBytesConfig"];
  if (train) lines.push("from transformers import TrainingArguments");
  if (p.lora.length) lines.push("from peft import LoraConfig, get_peft_model");
  lines.push("");
  if (p.bnb.length) lines.push(`bnb_config = BitsAndBytesConfig(${p.bnb.join(", ")})`);
  const modelArgs = [
    JSON.stringify(id),
    ...p.model,
    ...(p.bnb.length ? ["quantization_config=bnb_config"] : []),
  ];
  if (!train && (l.tp > 1 || l.pp > 1)) {
    modelArgs.push('device_map="auto"');
    extra.push({
      strategy: `layout tp=${l.tp} pp=${l.pp}`,
      reason:
        'device_map="auto" places whole layers on the GPUs in turn (one runs at a time), not tensor or pipeline parallel',
    });
  }
  lines.push(`model = AutoModelForCausalLM.from_pretrained(${modelArgs.join(", ")})`);
  if (p.lora.length) lines.push(`model = get_peft_model(model, LoraConfig(${p.lora.join(", ")}))`);
  if (train) {
    if (l.tp > 1 || l.pp > 1)
      extra.push({
        strategy: `layout tp=${l.tp} pp=${l.pp}`,
        reason: "the Trainer shards by data parallelism (and ZeRO/FSDP), not tp or pp",
      });
    if (l.zero > 0 || l.offload !== "none")
      extra.push({
        strategy: `layout zero=${l.zero} offload=${l.offload}`,
        reason: 'set TrainingArguments(deepspeed="ds_config.json") from --export deepspeed',
      });
    const accumulation = Math.max(1, Math.round(w.batch / (w.microBatch * l.dp)));
    const chosen = plan.training?.optimizer?.name;
    if (chosen !== undefined && p.optim === undefined) {
      p.optim = HF_OPTIMIZERS[PLAN_OPTIMIZER_STRATEGY[chosen]];
      mapped.push({ strategy: `--optim ${chosen}`, as: `optim="${p.optim}"` });
    }
    if (plan.training?.params === "bf16" && plan.training.masterWeights === false)
      extra.push({
        strategy: "--params bf16 --no-master-weights",
        reason:
          "TrainingArguments(bf16=True) is mixed precision with fp32 master weights; pure bf16 parameters need the model loaded in bf16 and a custom optimizer",
      });
    const optim = p.optim ?? "adamw_torch";
    if (p.optim === undefined)
      mapped.push({ strategy: "optimizer AdamW (the planner's)", as: 'optim="adamw_torch"' });
    lines.push(
      `args = TrainingArguments(${[
        '"out"',
        `per_device_train_batch_size=${w.microBatch}`,
        `gradient_accumulation_steps=${accumulation}`,
        "bf16=True",
        ...p.args,
        `optim="${optim}"`,
      ].join(", ")})`,
    );
    mapped.push({
      strategy: `workload train batch ${w.batch} = ${w.microBatch} × ${accumulation} × dp ${l.dp}`,
      as: "per_device_train_batch_size, gradient_accumulation_steps",
    });
  } else if (l.dp > 1)
    extra.push({ strategy: `layout dp=${l.dp}`, reason: `run ${l.dp} processes, one per replica` });
  return {
    engine: "hf",
    ...(train && l.dp > 1 ? { command: `torchrun --nproc_per_node ${l.dp} train.py` } : {}),
    files: [{ path: train ? "train.py" : "load.py", content: `${lines.join("\n")}\n` }],
    mapped,
    unsupported: [...unsupported, ...extra],
  };
}
