/**
 * Export a plan to a `vllm serve` command line. Option names and value sets follow the vLLM engine
 * arguments page (docs.vllm.ai/en/v0.6.3.post1/models/engine_args.html); strategies vLLM cannot
 * express are listed as unsupported. Not a launcher: it prints the command.
 */
import type { Configuration } from "@tradeoffs/core-tensor";
import type { ClusterPlan } from "../plan.js";
import { VLLM_UTILIZATION } from "../serving.js";
import {
  account,
  architectureHandlers,
  type EngineExport,
  type Handlers,
  ownWindow,
  shellWord,
  type Unsupported,
} from "./result.js";

/** `--block-size` choices on CUDA (vLLM v0.6.3 engine args: `--block-size {8,16,32}`). */
export const VLLM_BLOCK_SIZES = [8, 16, 32] as const;
/** `--kv-cache-dtype` choices (vLLM v0.6.3 engine args: `{auto,fp8,fp8_e5m2,fp8_e4m3}`). */
export const VLLM_KV_CACHE_DTYPES = ["auto", "fp8", "fp8_e5m2", "fp8_e4m3"] as const;
/** `--dtype` choices (vLLM v0.6.3 engine args: `{auto,half,float16,bfloat16,float,float32}`). */
export const VLLM_DTYPES = ["auto", "half", "float16", "bfloat16", "float", "float32"] as const;
/**
 * `--max-lora-rank` values vLLM accepts: `LoRAConfig.__post_init__` checks the rank against
 * `possible_max_ranks` (8, 16, 32, 64, 128, 256; later releases add 320 and 512).
 */
export const VLLM_LORA_RANKS = [8, 16, 32, 64, 128, 256] as const;

/** Options the plan does not carry. */
export interface VllmExportOptions {
  /** A Hugging Face repo id or local directory; default `./<model>`. */
  readonly model?: string;
  /** `--gpu-memory-utilization`; default the planner's 0.9 (pass the plan request's `utilization`). */
  readonly utilization?: number;
}

const handlers: Handlers = {
  ...architectureHandlers,
  FP32: () => ({ as: "--dtype float32", flags: ["--dtype", "float32"] }),
  // FP32x8 is FP32's values in our decode layout; the engine lays f32 weights out itself
  FP32x8: () => ({
    as: "--dtype float32 (FP32x8's values; the layout is the engine's own)",
    flags: ["--dtype", "float32"],
  }),
  FP16: () => ({ as: "--dtype float16", flags: ["--dtype", "float16"] }),
  BF16: () => ({ as: "--dtype bfloat16", flags: ["--dtype", "bfloat16"] }),
  // docs.vllm.ai/en/v0.6.3.post1/quantization/bnb.html: in-flight 4-bit bitsandbytes with
  // quantization and load_format both "bitsandbytes"; the NF4 type and double quant follow a
  // pre-quantized checkpoint's quantization_config.
  NF4: () => ({
    as: "--quantization bitsandbytes --load-format bitsandbytes (4-bit; nf4 + double quant from the checkpoint's quantization_config)",
    flags: ["--quantization", "bitsandbytes", "--load-format", "bitsandbytes"],
  }),
  LLMInt8: () => ({
    unsupported:
      "vLLM's in-flight bitsandbytes path loads 4-bit only; LLM.int8() needs a pre-quantized 8-bit checkpoint",
  }),
  INT8: () => ({
    unsupported:
      "round-to-nearest int8 weights: vLLM's int8 paths (compressed-tensors W8A8) need a calibrated checkpoint",
  }),
  INT4: () => ({
    unsupported:
      "round-to-nearest grouped int4: vLLM's 4-bit methods (awq, gptq) need their own calibrated checkpoints",
  }),
  // v0.6.3 engine args: --load-format includes gguf; the .gguf file is the model.
  Q8_0: () => ({
    as: "--load-format gguf (a Q8_0 .gguf file as the model)",
    flags: ["--load-format", "gguf"],
  }),
  Q4_0: () => ({
    as: "--load-format gguf (a Q4_0 .gguf file as the model)",
    flags: ["--load-format", "gguf"],
  }),
  KV: (s) => {
    const dtype = String(s.options.dtype);
    if (dtype === "int8")
      return {
        unsupported: `--kv-cache-dtype takes ${VLLM_KV_CACHE_DTYPES.join("|")}; no int8 KV cache`,
      };
    return {
      as: `--kv-cache-dtype auto (the model dtype; ${dtype} when --dtype is ${dtype === "fp16" ? "float16" : "float32"})`,
      flags: ["--kv-cache-dtype", "auto"],
    };
  },
  Paged: (s) => {
    const block = Number(s.options.block);
    if (!(VLLM_BLOCK_SIZES as readonly number[]).includes(block))
      return { unsupported: `--block-size takes ${VLLM_BLOCK_SIZES.join("|")} on CUDA, not ${block}` };
    return { as: `--block-size ${block}`, flags: ["--block-size", String(block)] };
  },
  Contiguous: () => ({ unsupported: "vLLM always pages its KV cache (PagedAttention); no contiguous cache" }),
  Flash: (s) =>
    ownWindow(s, "vLLM", "the model's config.json (sliding_window)") ?? {
      as: "vLLM's default CUDA attention backend (FlashAttention); no flag needed",
    },
  Standard: (s) => {
    const fused = "vLLM always runs a fused paged-attention kernel; no unfused attention";
    const own = ownWindow(s, "vLLM", "the model's config.json (sliding_window)");
    return { unsupported: own && "unsupported" in own ? `${fused}; ${own.unsupported}` : fused };
  },
  LoRA: (s) => {
    const rank = Number(s.options.rank);
    const max = VLLM_LORA_RANKS.find((r) => r >= rank);
    if (max === undefined)
      return {
        unsupported: `--max-lora-rank takes ${VLLM_LORA_RANKS.join("|")}; rank ${rank} is above them`,
      };
    return {
      as: `--enable-lora --max-lora-rank ${max} (alpha and targets come from the adapter's adapter_config.json)`,
      flags: ["--enable-lora", "--max-lora-rank", String(max)],
    };
  },
  None: () => ({ as: "no activation checkpointing (inference keeps no activations)" }),
  Ckpt: () => ({ unsupported: "activation checkpointing is a training technique; vLLM only serves" }),
};

/** The `vllm serve` command that realises `plan` with `config`, and what it cannot. */
export function exportVllm(
  plan: ClusterPlan,
  config: Configuration,
  opts: VllmExportOptions = {},
): EngineExport {
  const { flags, mapped, unsupported } = account("vLLM", config, handlers);
  const extra: Unsupported[] = [];
  const l = plan.layout;
  const w = plan.workload;
  if (w.kind === "train")
    extra.push({ strategy: "workload train", reason: "vLLM serves and infers; it does not train" });
  if (l.dp > 1)
    extra.push({
      strategy: `layout dp=${l.dp}`,
      reason: `launch ${l.dp} replicas of this command (one per tp × pp group) behind a load balancer`,
    });
  if (l.zero > 0 || l.offload !== "none")
    extra.push({
      strategy: `layout zero=${l.zero} offload=${l.offload}`,
      reason: "ZeRO and its offload are training-only",
    });
  // Sequences decoded together per replica: the serve plan's capacity, else the batch.
  const perReplica =
    w.kind === "serve" && plan.maxConcurrentSequences !== null
      ? Math.max(1, Math.floor(plan.maxConcurrentSequences / l.dp))
      : w.batch;
  const words = [
    "vllm",
    "serve",
    opts.model ?? `./${plan.model}`,
    "--tensor-parallel-size",
    String(l.tp),
    "--pipeline-parallel-size",
    String(l.pp),
    ...flags,
    "--max-model-len",
    String(w.seq + w.generate),
    "--max-num-seqs",
    String(perReplica),
    "--gpu-memory-utilization",
    String(opts.utilization ?? VLLM_UTILIZATION),
  ];
  return {
    engine: "vllm",
    command: words.map(shellWord).join(" "),
    mapped: [
      { strategy: `layout tp=${l.tp} pp=${l.pp}`, as: "--tensor-parallel-size, --pipeline-parallel-size" },
      ...mapped,
    ],
    unsupported: [...unsupported, ...extra],
  };
}
