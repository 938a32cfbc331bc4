/**
 * The published-model tables of the claims check (`claims --table models`): GPT-3, GPT-4 and Llama-2
 * with figures from the estimator and the weights strategies, each row naming its status and source;
 * rumoured figures say so. Not here: rendering (the app prints these as text, Markdown or CSV).
 */
import { formatBytes } from "@tradeoffs/core-tensor";
import { estimate } from "../estimator.js";
import { formatCount } from "../format.js";
import { getPreset } from "../presets.js";
import { parse } from "../registry.js";
import { formatSize, SIZE_FORMATS } from "./model-sizes.js";
import { GPT4_RUMOUR } from "./scale.js";
import { infer, train } from "./verdict.js";

/** One table of figures: a row per figure with its value, status and source. */
export interface ModelTable {
  /** Short name (`gpt3`, `gpt4`, `llama2`), e.g. for a CSV's table column. */
  readonly name: string;
  /** The model the table describes. */
  readonly title: string;
  /** figure, value, status (published / computed / RUMOUR / unpublished), source or how. */
  readonly headers: readonly string[];
  /** One row per figure, cells in the order of `headers`. */
  readonly rows: readonly (readonly string[])[];
  /** Lines printed under the table. */
  readonly notes: readonly string[];
}

const HEADERS = ["figure", "value", "status", "source / how"] as const;
const PUBLISHED = "published";
const COMPUTED = "computed";
const RUMOUR = "RUMOUR";

function gpt3Table(): ModelTable {
  const p = getPreset("gpt3-175b");
  const n = p.arch.maxSeq;
  const inf = estimate(p.name, parse("Baseline"), infer(n));
  const tr = estimate(p.name, parse("Baseline"), train(n));
  const scores = p.arch.heads * n * n * 2;
  return {
    name: "gpt3",
    title: "GPT-3 175B",
    headers: HEADERS,
    rows: [
      ["parameters", `${formatCount(inf.params.total)} (paper: 175B)`, PUBLISHED, p.published?.source ?? ""],
      [
        "layers × d_model, heads",
        `${p.arch.layers} × ${p.arch.dModel}, ${p.arch.heads} × ${p.arch.headDim}`,
        PUBLISHED,
        "Brown et al. 2020, Table 2.1",
      ],
      ["context", `${n} tokens`, PUBLISHED, "Brown et al. 2020 §2.1 (n_ctx, learned positions)"],
      ["weights fp16", formatBytes(inf.bytes.weights), COMPUTED, "estimator, Baseline"],
      [
        "KV cache fp16",
        `${formatBytes(inf.bytes.kv / n)}/token, ${formatBytes(inf.bytes.kv)} at ${n}`,
        COMPUTED,
        "2 · layers · heads · 128 · 2 B per token",
      ],
      [
        "one layer's fp16 score matrix",
        `${formatBytes(scores)} at ${n}`,
        COMPUTED,
        "heads · n² · 2 B (Standard attention; Flash never holds it)",
      ],
      [
        "training step, mixed precision",
        `${formatBytes(tr.totalBytes)} (weights ${formatBytes(tr.bytes.weights)}, grads ${formatBytes(tr.bytes.grad)}, Adam ${formatBytes(tr.bytes.optim)}, act ${formatBytes(tr.bytes.act)})`,
        COMPUTED,
        `estimator, batch 1 × ${n}, Standard attention`,
      ],
    ],
    notes: [],
  };
}

function gpt4Table(): ModelTable {
  const r = GPT4_RUMOUR;
  const fp16 = r.totalParams * 2;
  return {
    name: "gpt4",
    title: "GPT-4 (architecture unpublished)",
    headers: HEADERS,
    rows: [
      [
        "context",
        "8,192 and 32,768 tokens (gpt-4, gpt-4-32k)",
        PUBLISHED,
        "OpenAI, GPT-4 launch, March 2023",
      ],
      ["parameters", formatCount(r.totalParams), RUMOUR, r.source],
      ["experts", `${r.experts}, ${r.topK} routed per token`, RUMOUR, r.source],
      ["active parameters per token", formatCount(r.activeParams), RUMOUR, r.source],
      ["weights fp16, if the rumour holds", formatBytes(fp16), COMPUTED, "rumoured parameters × 2 B"],
      [
        "decode FLOPs per token, if the rumour holds",
        formatCount(2 * r.activeParams),
        COMPUTED,
        "2 per active parameter",
      ],
      [
        "layers, width, heads, KV layout",
        "unknown",
        "unpublished",
        "OpenAI GPT-4 Technical Report (2023) withholds them",
      ],
    ],
    notes: ["RUMOUR rows are not published by OpenAI; treat what follows from them as conditional."],
  };
}

function llama2Table(): ModelTable {
  const models = ["llama2-7b", "llama2-13b", "llama2-70b"];
  const rows: string[][] = [];
  for (const m of models) {
    const p = getPreset(m);
    const e = estimate(p.name, parse("Baseline"), infer(p.arch.maxSeq));
    rows.push([
      `${p.description}: parameters`,
      `${p.published?.params.toLocaleString("en-US")}`,
      PUBLISHED,
      p.published?.source ?? "",
    ]);
    rows.push([
      `${p.description}: KV cache fp16`,
      `${formatBytes(e.bytes.kv / p.arch.maxSeq)}/token, ${formatBytes(e.bytes.kv)} at ${p.arch.maxSeq} (${p.arch.kvHeads} KV heads)`,
      COMPUTED,
      "estimator, batch 1",
    ]);
    const sizes = SIZE_FORMATS.map((f) => formatSize(m, f));
    rows.push([
      `${p.description}: weights`,
      sizes.map((s) => `${s.format} ${(s.bytes / 1e9).toFixed(2)} GB`).join(", "),
      COMPUTED,
      "every matrix by the format's bytesFor, norms unquantised",
    ]);
  }
  const bits = SIZE_FORMATS.map((f) => `${f.name} ${formatSize("llama2-7b", f).bitsPerWeight.toFixed(3)}`);
  return {
    name: "llama2",
    title: "Llama-2",
    headers: HEADERS,
    rows,
    notes: [
      `bits per weight (7B): ${bits.join(", ")}; GB = 1e9 B`,
      "INT4 group-128 with fp16 scales (4.125 bits) is not expressible here: INT4 keeps f32 scales",
    ],
  };
}

/** The GPT-3, GPT-4 and Llama-2 tables, in that order. */
export function modelTables(): ModelTable[] {
  return [gpt3Table(), gpt4Table(), llama2Table()];
}
