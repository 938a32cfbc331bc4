/**
 * Export a plan to a `llama-server` command line: the GGUF file of the weights format, context,
 * GPU layers, KV cache types and flash attention. Option names and values follow llama.cpp's
 * tools/server/README.md (ggml-org/llama.cpp, 2025 builds with `-fa [on|off|auto]`). Not a launcher.
 */
import type { Configuration } from "@tradeoffs/core-tensor";
import { GGUF_WEIGHT_FORMATS, type GgufWeightFormat } from "../../gguf/llama-layout.js";
import type { ClusterPlan } from "../plan.js";
import {
  account,
  architectureHandlers,
  type EngineExport,
  type Handlers,
  inSlot,
  ownWindow,
  shellWord,
  type Unsupported,
} from "./result.js";

/**
 * `-ctk/-ctv` values (llama.cpp server README: "allowed values: f32, f16, bf16, q8_0, q4_0, q4_1,
 * iq4_nl, q5_0, q5_1").
 */
export const LLAMACPP_CACHE_TYPES = [
  "f32",
  "f16",
  "bf16",
  "q8_0",
  "q4_0",
  "q4_1",
  "iq4_nl",
  "q5_0",
  "q5_1",
] as const;

/** Options the plan does not carry. */
export interface LlamaCppExportOptions {
  /** The GGUF path; default `<model>-<TYPE>.gguf`. */
  readonly model?: string;
}

/** Where llama.cpp's sliding window comes from (our GGUF export writes the llama architecture, which has none). */
const GGUF_WINDOW = "the GGUF's metadata (the llama architecture has no window key)";

const QUANTISED_NO_GGUF = (what: string) => ({
  unsupported: `${what} has no GGUF tensor type; GGUF holds ${Object.values(GGUF_WEIGHT_FORMATS).join(", ")} among ours (the command names an F16 file)`,
});

const handlers = (flash: boolean): Handlers => ({
  ...architectureHandlers,
  FP32: () => ({ as: "GGUF type F32 (-m *-F32.gguf)" }),
  FP32x8: () => ({ as: "GGUF type F32 (-m *-F32.gguf; FP32x8's values, llama.cpp lays them out itself)" }),
  FP16: () => ({ as: "GGUF type F16 (-m *-F16.gguf)" }),
  BF16: () => ({ as: "GGUF type BF16 (-m *-BF16.gguf)" }),
  Q8_0: () => ({ as: "GGUF type Q8_0 (-m *-Q8_0.gguf)" }),
  Q4_0: () => ({ as: "GGUF type Q4_0 (-m *-Q4_0.gguf)" }),
  NF4: () => QUANTISED_NO_GGUF("NF4 (bitsandbytes normal-float 4-bit)"),
  INT8: () => QUANTISED_NO_GGUF("INT8 (per-row/group absmax with f32 scales)"),
  INT4: () => QUANTISED_NO_GGUF("INT4 (grouped absmax with f32 scales)"),
  LLMInt8: () => QUANTISED_NO_GGUF("LLM.int8() (int8 with fp16 outlier columns)"),
  KV: (s) => {
    const t = { fp32: "f32", fp16: "f16", int8: "q8_0" }[String(s.options.dtype)];
    if (!t) return { unsupported: `-ctk/-ctv take ${LLAMACPP_CACHE_TYPES.join("|")}` };
    const note =
      t === "q8_0"
        ? " (nearest: blocks of 32 int8 with an f16 scale, not one f32 scale per vector)" +
          (flash ? "" : "; a quantised V cache needs -fa on")
        : "";
    return { as: `-ctk ${t} -ctv ${t}${note}`, flags: ["-ctk", t, "-ctv", t] };
  },
  Flash: (s) => ownWindow(s, "llama.cpp", GGUF_WINDOW) ?? { as: "-fa on", flags: ["-fa", "on"] },
  Standard: (s) => ownWindow(s, "llama.cpp", GGUF_WINDOW) ?? { as: "-fa off", flags: ["-fa", "off"] },
  Contiguous: () => ({ as: "llama.cpp's KV cache: one buffer of cells per context (no flag)" }),
  Paged: () => ({ unsupported: "llama.cpp's KV cache is a flat buffer of cells; it has no block size" }),
  LoRA: (s) => ({
    as: `--lora <adapter>.gguf (rank ${String(s.options.rank)}; convert the PEFT adapter to GGUF first)`,
    flags: ["--lora", "adapter.gguf"],
  }),
  None: () => ({ as: "no activation checkpointing (inference keeps no activations)" }),
  Ckpt: () => ({ unsupported: "activation checkpointing is a training technique; llama-server only infers" }),
});

/** The `llama-server` command that realises `plan` with `config`, and what it cannot. */
export function exportLlamaCpp(
  plan: ClusterPlan,
  config: Configuration,
  opts: LlamaCppExportOptions = {},
): EngineExport {
  const flash = inSlot(config, "attention")?.name === "Flash";
  const { flags, mapped, unsupported } = account("llama.cpp", config, handlers(flash));
  const extra: Unsupported[] = [];
  const l = plan.layout;
  const w = plan.workload;
  const weights = inSlot(config, "weights")?.name ?? "FP32";
  const type = GGUF_WEIGHT_FORMATS[weights as GgufWeightFormat] ?? "F16";
  if (w.kind === "train")
    extra.push({ strategy: "workload train", reason: "llama-server infers; it does not train" });
  if (l.dp > 1)
    extra.push({
      strategy: `layout dp=${l.dp}`,
      reason: `run ${l.dp} llama-server processes, one per replica`,
    });
  if (l.zero > 0 || l.offload !== "none")
    extra.push({
      strategy: `layout zero=${l.zero} offload=${l.offload}`,
      reason: "ZeRO and its offload are training-only",
    });
  // Multi-GPU: -sm layer splits whole layers over the GPUs (like pp); -sm row splits each matrix's
  // rows (like tp). server README: "-sm, --split-mode {none,layer,row}".
  const split: string[] = [];
  if (l.tp > 1 && l.pp > 1)
    extra.push({
      strategy: `layout tp=${l.tp} pp=${l.pp}`,
      reason: "-sm splits by layer or by row, not both; the command splits by row",
    });
  if (l.tp > 1) split.push("-sm", "row");
  else if (l.pp > 1) split.push("-sm", "layer");
  // Sequences decoded together: -np slots; llama-server divides -c among them.
  const slots =
    w.kind === "serve" && plan.maxConcurrentSequences !== null
      ? Math.max(1, Math.floor(plan.maxConcurrentSequences / l.dp))
      : w.batch;
  // Every layer on the GPUs: llama.cpp counts the output layer as one more (n_layer + 1).
  const gpuLayers = plan.perDevice.layers * l.pp + 1;
  const words = [
    "llama-server",
    "-m",
    opts.model ?? `${plan.model}-${type}.gguf`,
    "-c",
    String((w.seq + w.generate) * slots),
    ...(slots > 1 ? ["-np", String(slots)] : []),
    "-ngl",
    String(gpuLayers),
    ...split,
    ...flags,
  ];
  return {
    engine: "llamacpp",
    command: words.map(shellWord).join(" "),
    mapped: [
      {
        strategy: `workload ${w.kind} ${slots} × ${w.seq + w.generate} tokens`,
        as: `-c ${(w.seq + w.generate) * slots}${slots > 1 ? ` -np ${slots}` : ""}`,
      },
      ...(split.length ? [{ strategy: `layout tp=${l.tp} pp=${l.pp}`, as: split.join(" ") }] : []),
      ...mapped,
    ],
    unsupported: [...unsupported, ...extra],
  };
}
