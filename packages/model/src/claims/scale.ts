/**
 * Claims about model scale: QLoRA's 65B on one 48 GB GPU, "10× larger models" from quantisation, the
 * rumoured 1.8T-parameter GPT-4 MoE (marked as a rumour, with what would follow) and Williams' √t space.
 * Decided by the estimator and the strategies' own bytes; nothing is measured here.
 */
import { type ArchSpec, formatBytes } from "@tradeoffs/core-tensor";
import { estimate, estimatePlan } from "../estimator.js";
import { formatCount, formatPercent } from "../format.js";
import { basePlan } from "../plan.js";
import { getPreset } from "../presets.js";
import { parse } from "../registry.js";
import { QLORA_PAPER_SETUP, QLORA_SETUP_GAP, qloraPaperBytes } from "./model-sizes.js";
import { type ClaimResult, GB, infer, near, train, verdictOf } from "./verdict.js";

/**
 * LLaMA-65B (Touvron et al. 2023a, Table 2: d 8192, 64 heads, 80 layers; FFN width 22016 and vocab
 * 32000 from the released checkpoint): the model QLoRA fine-tuned. Llama-2-70B's family settings, MHA.
 */
export const LLAMA_65B: ArchSpec = {
  ...getPreset("llama2-70b").arch,
  name: "llama-65b",
  kvHeads: 64,
  ffnHidden: 22016,
  maxSeq: 2048,
};

/** A 48 GB GPU (RTX A6000 / A40, as in the QLoRA paper), in bytes (48 GiB). */
export const GPU_48GB = 48 * 2 ** 30;

/** 18. QLoRA fine-tunes a 65B model on one 48 GB GPU. */
export function qlora65bClaim(): ClaimResult {
  const seq = 512;
  const q = qloraPaperBytes(LLAMA_65B, seq);
  const e = q.estimate;
  return {
    id: 18,
    claim: "QLoRA fine-tunes a 65B model on one 48 GB GPU",
    verdict: verdictOf([q.total <= GPU_48GB]),
    value: `LLaMA-65B (${formatCount(e.params.total)} parameters), batch 1 × ${seq}: ${formatBytes(q.total)} (weights ${formatBytes(e.bytes.weights)}, adapters ${formatCount(e.params.adapters)} params, Adam ${formatBytes(e.bytes.optim)}, act ${formatBytes(e.bytes.act)}); with the paper's 8-bit AdamW ${formatBytes(q.withEightBitAdam)}; 48 GB GPU = ${formatBytes(GPU_48GB)}`,
    how: `QLoRA paper setup (Dettmers et al. 2023): ${QLORA_PAPER_SETUP}; ${QLORA_SETUP_GAP}`,
  };
}

/** 19. Quantisation fits 10× larger models in the same memory. */
export function tenXLargerClaim(): ClaimResult {
  const bits = (c: string) =>
    parse(c).plan(basePlan(getPreset("llama2-7b").arch, infer(1))).weights.bitsPerWeight;
  const nf4 = bits("NF4");
  const int4 = bits("INT4[group=0]");
  const vs32 = 32 / Math.min(nf4, int4);
  const vs16 = 16 / Math.min(nf4, int4);
  return {
    id: 19,
    claim: 'Quantisation lets you run "10× larger models"',
    verdict: verdictOf([near(vs32, 10), near(vs16, 10)]),
    value: `4-bit weights are ${int4.toFixed(3)} (INT4 per-channel) to ${nf4.toFixed(3)} (NF4+DQ) bits, so at most ${vs32.toFixed(2)}× the parameters of fp32 and ${vs16.toFixed(2)}× those of fp16 (the usual baseline) in the same weight bytes; the KV cache and activations do not shrink`,
    how: "ratio of the strategies' own bitsPerWeight (fp32 32, fp16 16); ≈ within 20% of 10×",
  };
}

/**
 * The rumoured GPT-4 figures. Source: D. Patel and G. Wong, "GPT-4 Architecture, Infrastructure,
 * Training Dataset, Costs, Vision, MoE", SemiAnalysis, 10 July 2023 (paywalled; OpenAI has
 * published none of it): ~1.8T parameters, 16 experts of ~111B, 2 routed per token, ~280B active.
 */
export const GPT4_RUMOUR = {
  totalParams: 1.8e12,
  activeParams: 280e9,
  experts: 16,
  topK: 2,
  source: "SemiAnalysis (Patel & Wong), 10 July 2023: a rumour, not published by OpenAI",
} as const;

/** 20. GPT-4 is a 1.8T-parameter mixture of experts (a rumour). */
export function gpt4MoeClaim(): ClaimResult {
  const r = GPT4_RUMOUR;
  const bitsOf = (c: string) =>
    parse(c).plan(basePlan(getPreset("llama2-7b").arch, infer(1))).weights.bitsPerWeight;
  const bytesAt = (c: string) => (r.totalParams * bitsOf(c)) / 8;
  const gpus = (b: number) => Math.ceil(b / (80 * GB));
  const fp16 = bytesAt("FP16");
  const int8 = bytesAt("INT8");
  const nf4 = bytesAt("NF4");
  return {
    id: 20,
    claim: "GPT-4 is a 1.8T-parameter mixture of experts (rumour)",
    verdict: "unverifiable",
    value: `if true: weights ${formatBytes(fp16)} in fp16 (${gpus(fp16)} × 80 GB GPUs just to hold them), ${formatBytes(int8)} in INT8 (${gpus(int8)}), ${formatBytes(nf4)} in NF4 (${gpus(nf4)}); ${formatPercent(r.activeParams / r.totalParams)} of the parameters active per token (${r.topK} of ${r.experts} experts), ${formatCount(2 * r.activeParams)} FLOPs per decoded token vs ${formatCount(2 * r.totalParams)} if dense; unknown: every figure (rumour)`,
    how: `rumour, source: ${r.source}; bytes = params × the strategies' bitsPerWeight / 8; 2 FLOPs per active weight per token`,
  };
}

/** 21. Williams' √t space result, as applied to LLM memory. */
export function williamsClaim(): ClaimResult {
  const base = getPreset("llama2-7b").arch;
  const step = estimate("llama2-7b", parse("Baseline"), train(2048));
  const t = step.flops.trainStep;
  const space = Math.sqrt(t * Math.log2(t));
  const withL = (L: number) => ({ ...base, layers: L, name: `${base.name}-L${L}` });
  const act = (L: number) =>
    estimatePlan(parse("Ckpt[sqrt]").plan(basePlan(withL(L), train(2048), { baseBytes: 2 })), "Ckpt[sqrt]")
      .bytes.act;
  const grow = act(128) / act(32);
  return {
    id: 21,
    claim: "Williams' √t space result means a model's memory can shrink to the square root of its compute",
    verdict: verdictOf([near(grow, 2, 0.25), space >= step.params.trainable]),
    value: `a Llama-2-7B training step (2048 tokens) is t = ${formatCount(t)} operations, √(t·log₂t) = ${formatCount(space)} cells, below the ${formatCount(step.params.trainable)} parameters the step must update; the √ that engineering gets is checkpointing's: Ckpt[sqrt] activations grow ×${grow.toFixed(2)} for 4× the layers, at one extra forward`,
    how: "TIME[t] ⊆ SPACE[√(t log t)] is for multitape Turing machines and its simulation comes with no polynomial time bound (R. Williams, 'Simulating Time With Square-Root Space', STOC 2025); t from the estimator's train-step FLOPs; act from the estimator with Ckpt[sqrt] at 32 and 128 layers",
  };
}
