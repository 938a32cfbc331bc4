/**
 * Export a training plan to a DeepSpeed `ds_config.json`: batch sizes, ZeRO stage, CPU offload and
 * bf16/fp16. Field names and value sets follow DeepSpeed's configuration JSON page
 * (deepspeed.ai/docs/config-json/; the page is unversioned, read 2026-11). Not the estimator: planner/deepspeed.ts sizes memory.
 */
import type { Configuration } from "@tradeoffs/core-tensor";
import { DEVICES } from "../hardware.js";
import type { ClusterPlan } from "../plan.js";
import { account, type EngineExport, type Handlers, inSlot, type Unsupported } from "./result.js";

/** `zero_optimization.stage` values (config-json: 0 disabled, 1 optimizer, 2 + gradients, 3 + parameters). */
export const DEEPSPEED_ZERO_STAGES = [0, 1, 2, 3] as const;
/** `offload_optimizer.device` / `offload_param.device` values (config-json: "cpu", "nvme", "none"). */
export const DEEPSPEED_OFFLOAD_DEVICES = ["none", "cpu", "nvme"] as const;

const modelCode = (what: string) => ({
  unsupported: `${what} lives in the model code, not in ds_config.json`,
});
const notTraining = (what: string) => ({
  unsupported: `${what} is an inference setting; ds_config.json configures training`,
});

const handlers: Handlers = {
  MHA: () => ({ as: "checkpoint architecture (num_key_value_heads = num_attention_heads)" }),
  GQA: (s) => ({ as: `checkpoint architecture (num_key_value_heads = ${String(s.options.kvHeads)})` }),
  MQA: () => ({ as: "checkpoint architecture (num_key_value_heads = 1)" }),
  Dense: () => ({ as: "checkpoint architecture (dense FFN)" }),
  MoE: () => modelCode("the mixture of experts (deepspeed.moe.layer.MoE)"),
  JS: () => ({ unsupported: "this project's JavaScript kernels; DeepSpeed runs PyTorch's" }),
  WASM: () => ({ unsupported: "this project's WebAssembly kernels; DeepSpeed runs PyTorch's" }),
  FP32: () => ({ as: "bf16 and fp16 off: fp32 training" }),
  FP16: () => ({ as: '"fp16": { "enabled": true }' }),
  BF16: () => ({ as: '"bf16": { "enabled": true }' }),
  NF4: () => ({
    unsupported:
      "DeepSpeed trains bf16/fp16/fp32 weights; 4-bit NF4 base weights come from bitsandbytes (--export hf)",
  }),
  LLMInt8: () => ({
    unsupported: "DeepSpeed trains bf16/fp16/fp32 weights; LLM.int8() comes from bitsandbytes (--export hf)",
  }),
  INT8: () => ({ unsupported: "DeepSpeed's config has no int8 weight format for training" }),
  INT4: () => ({ unsupported: "DeepSpeed's config has no int4 weight format for training" }),
  Q8_0: () => ({ unsupported: "GGUF Q8_0 is an inference format; DeepSpeed does not load it" }),
  Q4_0: () => ({ unsupported: "GGUF Q4_0 is an inference format; DeepSpeed does not load it" }),
  LoRA: () => ({
    unsupported: "LoRA adapters come from PEFT (--export hf); DeepSpeed trains whatever requires grad",
  }),
  Flash: () => modelCode("the attention kernel (attn_implementation)"),
  Standard: () => modelCode("the attention kernel (attn_implementation)"),
  KV: () => notTraining("the KV cache dtype"),
  Paged: () => notTraining("the paged KV cache"),
  Contiguous: () => notTraining("the KV cache layout"),
  None: () => ({ as: "no activation checkpointing" }),
  Ckpt: () => ({
    unsupported:
      "activation checkpointing is switched on in the model (HF gradient_checkpointing=True, --export hf); ds_config's activation_checkpointing only tunes deepspeed.checkpointing calls the model makes",
  }),
  AdamW: () => ({ as: '"optimizer": { "type": "AdamW" }' }),
};

/**
 * The launcher line. DeepSpeed getting-started: `--num_gpus` GPUs per node; across nodes a hostfile
 * lists the nodes and `--num_nodes` how many to use.
 */
function launch(devices: number, perNode: number): string {
  const script = "train.py --deepspeed ds_config.json";
  if (devices <= perNode) return `deepspeed --num_gpus ${devices} ${script}`;
  return `deepspeed --hostfile hostfile --num_nodes ${Math.ceil(devices / perNode)} --num_gpus ${perNode} ${script}`;
}

/** The `ds_config.json` (and launch line) that realise a training `plan` with `config`, and what they cannot. */
export function exportDeepSpeed(
  plan: ClusterPlan,
  config: Configuration,
  opts: { gpusPerNode?: number } = {},
): EngineExport {
  const { mapped, unsupported } = account("DeepSpeed", config, handlers);
  const extra: Unsupported[] = [];
  const l = plan.layout;
  const w = plan.workload;
  if (w.kind !== "train")
    extra.push({
      strategy: `workload ${w.kind}`,
      reason: "ds_config.json configures training; the file below is for training this model",
    });
  if (l.tp > 1)
    extra.push({
      strategy: `layout tp=${l.tp}`,
      reason: "ds_config.json has no tensor-parallel degree (Megatron-DeepSpeed sets it in the model code)",
    });
  if (l.pp > 1)
    extra.push({
      strategy: `layout pp=${l.pp}`,
      reason: `pipeline stages come from the model code: deepspeed.pipe.PipelineModule(num_stages=${l.pp})`,
    });
  if (l.sp && l.tp > 1)
    extra.push({
      strategy: "layout sp",
      reason: "Megatron sequence parallelism is model code; ds_config.json has no switch for it",
    });
  // config-json: offload_optimizer works with stages 1-3, offload_param with stage 3 only.
  const offloadOptimizer = l.offload !== "none" && l.zero >= 1;
  const offloadParam = l.offload === "optimizer+params" && l.zero === 3;
  if (l.offload !== "none" && !offloadOptimizer)
    extra.push({
      strategy: `layout offload=${l.offload}`,
      reason: "offload_optimizer needs ZeRO stage 1, 2 or 3",
    });
  if (l.offload === "optimizer+params" && !offloadParam)
    extra.push({ strategy: "layout offload=optimizer+params", reason: "offload_param needs ZeRO stage 3" });
  // The CLI's --optim: DeepSpeed's config-json `optimizer.type` is mapped for AdamW only here; any
  // other optimizer is constructed in the training script and passed to deepspeed.initialize.
  const chosen = plan.training?.optimizer?.name;
  if (chosen !== undefined && chosen !== "adamw")
    extra.push({
      strategy: `--optim ${chosen}`,
      reason:
        "not written as a config-json optimizer type; build it in train.py and pass it to deepspeed.initialize(optimizer=…) (ds_config then has no optimizer block)",
    });
  if (plan.training?.params === "bf16" && plan.training.masterWeights === false)
    extra.push({
      strategy: "--params bf16 --no-master-weights",
      reason: 'DeepSpeed\'s "bf16" mode keeps fp32 master weights in the optimizer',
    });
  const weights = inSlot(config, "weights")?.name;
  const precision =
    weights === "FP32" ? {} : weights === "FP16" ? { fp16: { enabled: true } } : { bf16: { enabled: true } };
  if (weights === undefined)
    mapped.push({
      strategy: "weights (none set)",
      as: '"bf16": { "enabled": true } (mixed precision, fp32 master weights)',
    });
  // config-json: train_batch_size = train_micro_batch_size_per_gpu × gradient_accumulation_steps × data-parallel GPUs.
  const accumulation = Math.max(1, Math.round(w.batch / (w.microBatch * l.dp)));
  const ds = {
    train_batch_size: w.microBatch * accumulation * l.dp,
    train_micro_batch_size_per_gpu: w.microBatch,
    gradient_accumulation_steps: accumulation,
    ...precision,
    ...((inSlot(config, "optimizer") === undefined && (chosen === undefined || chosen === "adamw")) ||
    inSlot(config, "optimizer")?.name === "AdamW"
      ? { optimizer: { type: "AdamW" } }
      : {}),
    zero_optimization: {
      stage: l.zero,
      ...(offloadOptimizer ? { offload_optimizer: { device: "cpu" } } : {}),
      ...(offloadParam ? { offload_param: { device: "cpu" } } : {}),
    },
  };
  mapped.push(
    {
      strategy: `workload batch ${w.batch} = ${w.microBatch} × ${accumulation} × dp ${l.dp}`,
      as: "train_batch_size, train_micro_batch_size_per_gpu, gradient_accumulation_steps",
    },
    { strategy: `layout zero=${l.zero}`, as: `zero_optimization.stage ${l.zero}` },
  );
  if (offloadOptimizer)
    mapped.push({ strategy: "layout offload optimizer", as: 'offload_optimizer.device "cpu"' });
  if (offloadParam) mapped.push({ strategy: "layout offload params", as: 'offload_param.device "cpu"' });
  if (inSlot(config, "optimizer") === undefined && chosen === "adamw")
    mapped.push({ strategy: "--optim adamw", as: '"optimizer": { "type": "AdamW" }' });
  else if (inSlot(config, "optimizer") === undefined && chosen === undefined)
    mapped.push({ strategy: "optimizer AdamW (the planner's)", as: '"optimizer": { "type": "AdamW" }' });
  return {
    engine: "deepspeed",
    command: launch(plan.devices, opts.gpusPerNode ?? DEVICES[plan.hardware]?.gpusPerNode ?? plan.devices),
    files: [{ path: "ds_config.json", content: `${JSON.stringify(ds, null, 2)}\n` }],
    mapped,
    unsupported: [...unsupported, ...extra],
  };
}
