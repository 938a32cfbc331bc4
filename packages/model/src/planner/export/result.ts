/**
 * What an engine export returns (the JSON `compare plan --export <engine> --json` prints) and the
 * bookkeeping that accounts for every strategy of a configuration: each is mapped or listed as
 * unsupported, never dropped. Not an engine: the engines are vllm.ts, llamacpp.ts, hf.ts, deepspeed.ts.
 */
import type { Configuration, Strategy } from "@tradeoffs/core-tensor";

/** A strategy (or layout/workload choice) with no equivalent in the engine, and why. */
export interface Unsupported {
  /** The strategy's canonical label (`KV[dtype=int8]`) or the plan field (`layout dp=2`). */
  readonly strategy: string;
  /** Why the engine cannot express it (and the nearest option, if any). */
  readonly reason: string;
}

/** A strategy the export realises, and the flag or field that does it. */
export interface Mapped {
  /** The strategy's canonical label, or the plan field. */
  readonly strategy: string;
  /** The flag, field or mechanism (`--quantization bitsandbytes`, `checkpoint architecture`). */
  readonly as: string;
}

/** A file an export writes (config JSON, a Python snippet). */
export interface ExportFile {
  /** File name to write it to (`ds_config.json`, `train.py`). */
  readonly path: string;
  /** The file's text. */
  readonly content: string;
}

/** One engine's export of a plan: the command and/or files, what maps, and what does not. */
export interface EngineExport {
  /** The engine's name as `--export` takes it. */
  readonly engine: string;
  /** The launch command line, when the engine is launched by one. */
  readonly command?: string;
  /** Files to write beside the command. */
  readonly files?: readonly ExportFile[];
  /** Every strategy realised, and by what. */
  readonly mapped: readonly Mapped[];
  /** Every strategy or plan choice without an equivalent, and why. */
  readonly unsupported: readonly Unsupported[];
}

/** What a strategy handler decides: realised (with flags to add) or not. */
export type Decision =
  | { readonly as: string; readonly flags?: readonly string[] }
  | { readonly unsupported: string };

/** A handler per strategy name; names without one are listed as unsupported. */
export type Handlers = Readonly<Record<string, (s: Strategy) => Decision>>;

/** Run every strategy of `config` through `handlers`: flags in order, each strategy accounted for. */
export function account(
  engine: string,
  config: Configuration,
  handlers: Handlers,
): { flags: string[]; mapped: Mapped[]; unsupported: Unsupported[] } {
  const flags: string[] = [];
  const mapped: Mapped[] = [];
  const unsupported: Unsupported[] = [];
  for (const s of config.strategies) {
    const h = handlers[s.name];
    const d: Decision = h ? h(s) : { unsupported: `no ${engine} equivalent known for ${s.name}` };
    if ("unsupported" in d) unsupported.push({ strategy: s.label, reason: d.unsupported });
    else {
      mapped.push({ strategy: s.label, as: d.as });
      if (d.flags) flags.push(...d.flags);
    }
  }
  return { flags, mapped, unsupported };
}

/**
 * An attention strategy that sets its own sliding window (`Flash[window=4096]`): an engine takes the
 * window from the model it loads (`where`), so the export cannot set another and lists it; null when
 * the strategy keeps the model's own span (`window=0`).
 */
export function ownWindow(s: Strategy, engine: string, where: string): Decision | null {
  const window = Number(s.options.window ?? 0);
  if (!(window > 0)) return null;
  return {
    unsupported: `window=${window}: ${engine} takes the sliding window from ${where}; no option sets another`,
  };
}

/** The strategy filling `slot`, if any. */
export const inSlot = (config: Configuration, slot: string): Strategy | undefined =>
  config.strategies.find((s) => s.slot === slot);

/** Quote a shell word when it holds anything beyond a safe set. */
export const shellWord = (w: string): string =>
  /^[\w./=:,+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;

/** Handlers shared by engines that load a checkpoint: head layout and FFN are the model's architecture. */
export const architectureHandlers: Handlers = {
  MHA: () => ({ as: "checkpoint architecture (num_key_value_heads = num_attention_heads)" }),
  GQA: (s) => ({ as: `checkpoint architecture (num_key_value_heads = ${String(s.options.kvHeads)})` }),
  MQA: () => ({ as: "checkpoint architecture (num_key_value_heads = 1)" }),
  Dense: () => ({ as: "checkpoint architecture (dense FFN)" }),
  MoE: (s) => ({
    as: `checkpoint architecture (${String(s.options.experts)} experts, top-${String(s.options.topK)})`,
  }),
  JS: () => ({ unsupported: "this project's JavaScript kernels; the engine runs its own" }),
  WASM: () => ({ unsupported: "this project's WebAssembly kernels; the engine runs its own" }),
};
