/**
 * Export a plan to the engine users run it on: `exportPlan("vllm", plan, config)`. Each engine is one
 * file; this registry maps the names `compare plan --export` accepts to them. Re-exports by name.
 */
import { type Configuration, ValueError } from "@tradeoffs/core-tensor";
import type { ClusterPlan } from "../plan.js";
import { exportDeepSpeed } from "./deepspeed.js";
import { exportHf } from "./hf.js";
import { exportLlamaCpp } from "./llamacpp.js";
import type { EngineExport } from "./result.js";
import { exportVllm } from "./vllm.js";

export { DEEPSPEED_OFFLOAD_DEVICES, DEEPSPEED_ZERO_STAGES, exportDeepSpeed } from "./deepspeed.js";
export { exportHf, HF_LORA_MODULES, HF_OPTIMIZERS } from "./hf.js";
export { exportLlamaCpp, LLAMACPP_CACHE_TYPES, type LlamaCppExportOptions } from "./llamacpp.js";
export type { EngineExport, ExportFile, Mapped, Unsupported } from "./result.js";
export {
  exportVllm,
  VLLM_BLOCK_SIZES,
  VLLM_DTYPES,
  VLLM_KV_CACHE_DTYPES,
  VLLM_LORA_RANKS,
  type VllmExportOptions,
} from "./vllm.js";

/** Options any engine may read (the plan request's figures the plan does not carry). */
export interface ExportOptions {
  /** Model path or id to put in the command or file; default derived from the plan's model. */
  readonly model?: string;
  /** vLLM `--gpu-memory-utilization`. */
  readonly utilization?: number;
  /** DeepSpeed launcher: GPUs per node (default: the hardware preset's). */
  readonly gpusPerNode?: number;
}

/** The engines by the name `--export` takes. */
export const EXPORT_ENGINES = {
  vllm: (p: ClusterPlan, c: Configuration, o: ExportOptions) => exportVllm(p, c, o),
  llamacpp: (p: ClusterPlan, c: Configuration, o: ExportOptions) => exportLlamaCpp(p, c, o),
  hf: (p: ClusterPlan, c: Configuration, o: ExportOptions) => exportHf(p, c, o),
  deepspeed: (p: ClusterPlan, c: Configuration, o: ExportOptions) => exportDeepSpeed(p, c, o),
} as const satisfies Record<string, (p: ClusterPlan, c: Configuration, o: ExportOptions) => EngineExport>;

/** One of `EXPORT_ENGINES`' names. */
export type ExportEngine = keyof typeof EXPORT_ENGINES;

/** Names `--export` accepts, in the order the CLI lists them. */
export const EXPORT_ENGINE_NAMES = Object.keys(EXPORT_ENGINES) as readonly ExportEngine[];

/**
 * The launch command or config files that realise `plan` with `config` on `engine`, with every
 * strategy either mapped or listed as unsupported.
 * @throws ValueError naming the engine and the valid ones when it is unknown.
 */
export function exportPlan(
  engine: string,
  plan: ClusterPlan,
  config: Configuration,
  opts: ExportOptions = {},
): EngineExport {
  const f = (EXPORT_ENGINES as Record<string, (typeof EXPORT_ENGINES)[ExportEngine]>)[engine];
  if (!f) throw new ValueError(`unknown engine "${engine}"; choose one of ${EXPORT_ENGINE_NAMES.join(", ")}`);
  return f(plan, config, opts);
}

/** The export as text: the command, then each file, then what maps and what does not. */
export function exportText(e: EngineExport): string {
  const out: string[] = [];
  if (e.command) out.push(e.command);
  for (const f of e.files ?? []) out.push(`# ${f.path}\n${f.content.trimEnd()}`);
  if (e.mapped.length) out.push(["# maps", ...e.mapped.map((m) => `#   ${m.strategy}: ${m.as}`)].join("\n"));
  out.push(
    e.unsupported.length
      ? ["# no equivalent", ...e.unsupported.map((u) => `#   ${u.strategy}: ${u.reason}`)].join("\n")
      : "# no equivalent: none",
  );
  return `${out.join("\n\n")}\n`;
}
