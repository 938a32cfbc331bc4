/**
 * The claims that the estimator alone decides (bytes, FLOPs, parameter counts of published models).
 * Each function states one rule of thumb as numbers and computes its verdict; nothing is measured.
 */
import { type ArchSpec, formatBytes } from "@tradeoffs/core-tensor";
import { estimate, estimatePlan } from "../estimator.js";
import { formatCount, formatPercent } from "../format.js";
import { basePlan } from "../plan.js";
import { getPreset } from "../presets.js";
import { parse } from "../registry.js";
import { type ClaimResult, est, GB, infer, inRange, near, train, verdictOf } from "./verdict.js";

/** An architecture like `base` with `layers` layers (for scaling laws in L). */
function withLayers(base: ArchSpec, layers: number): ArchSpec {
  return { ...base, layers, name: `${base.name}-L${layers}` };
}

/** 1. A 32K-token attention matrix takes 4 GB. */
export function attentionMatrixClaim(): ClaimResult {
  const n = 32768;
  const perHead = n * n * 4;
  const e = est("llama2-7b", "Baseline", infer(n));
  return {
    id: 1,
    claim: "A 32K-token attention matrix takes 4 GB",
    verdict: verdictOf([near(perHead, 4 * GB), near(e.bytes.tmp, 4 * GB)]),
    value: `${(perHead / GB).toFixed(2)} GB for one head in fp32; ${formatBytes(e.bytes.tmp)} of temporaries for a Llama-2-7B layer (32 heads, fp16, scores + probabilities)`,
    how: "n²·4 bytes; estimator tmp for llama2-7b, Baseline (Standard attention), seq 32768",
  };
}

/** 3. Flash attention costs O(n² log n) time. */
export function flashFlopsClaim(): ClaimResult {
  const f = (n: number) => est("llama2-7b", "Flash", infer(n)).flops.attentionPrefill;
  const exponent = Math.log2(f(16384) / f(8192));
  return {
    id: 3,
    claim: "Flash attention costs O(n² log n) time",
    verdict: verdictOf([exponent > 2.05]),
    value: `attention FLOPs grow as n^${exponent.toFixed(2)} (8K → 16K); n² log n would give n^${(2 + Math.log2(Math.log2(16384) / Math.log2(8192))).toFixed(2)}`,
    how: "estimator attention FLOPs (QKᵀ and PV, causal blocks skipped) for llama2-7b with Flash",
  };
}

/** 4. A 70B model's KV cache at 32K context is ~140 GB. */
export function kvCache70bClaim(): ClaimResult {
  const gqaKv = est("llama2-70b", "Baseline", infer(32768)).bytes.kv;
  const mhaKv = est("llama2-70b", "MHA", infer(32768)).bytes.kv;
  return {
    id: 4,
    claim: "A 70B model's KV cache at 32K context is ~140 GB",
    verdict: verdictOf([near(gqaKv, 140 * GB), near(mhaKv, 140 * GB)]),
    value: `${(gqaKv / GB).toFixed(1)} GB for Llama-2-70B (8 KV heads, fp16); ${(mhaKv / GB).toFixed(1)} GB if it had 64 KV heads (MHA)`,
    how: "2 · 80 layers · kvHeads · 128 · 2 bytes · 32768 tokens, from the estimator, batch 1",
  };
}

/** 5. MQA cuts KV memory 8–32×; GQA with groups of 4–8 cuts it 4–8×. */
export function mqaGqaClaim(): ClaimResult {
  const kv = (model: string, c: string) => est(model, c, infer(4096)).bytes.kv;
  const mqa7 = kv("llama2-7b", "MHA") / kv("llama2-7b", "MQA");
  const mqa70 = kv("llama2-70b", "MHA") / kv("llama2-70b", "MQA");
  const g4 = kv("llama2-7b", "MHA") / kv("llama2-7b", "GQA[kvHeads=8]");
  const g8 = kv("llama2-7b", "MHA") / kv("llama2-7b", "GQA[kvHeads=4]");
  return {
    id: 5,
    claim: "MQA cuts KV memory 8–32×; GQA with groups of 4–8 cuts it 4–8×",
    verdict: verdictOf([
      inRange(mqa7, 8, 32, 0),
      inRange(mqa70, 8, 32, 0),
      inRange(g4, 4, 8, 0),
      inRange(g8, 4, 8, 0),
    ]),
    value: `MQA ${mqa7}× on Llama-2-7B, ${mqa70}× on Llama-2-70B; GQA groups of 4: ${g4}×, of 8: ${g8}×`,
    how: "estimator KV bytes MHA / layout; the factor is heads / kvHeads, so MQA's depends on the head count",
  };
}

/** 6. A 4096×4096 layer is 64 MB in fp32, 16 MB in INT8, 8 MB + 0.5 MB adapter in 4-bit with LoRA. */
export function layerBytesClaim(): ClaimResult {
  const plan = (c: string) => parse(c).plan(basePlan(getPreset("llama2-7b").arch, infer(1)));
  const bytesOf = (c: string) => plan(c).weights.bytesFor?.(4096, 4096) ?? 0;
  const f32 = bytesOf("FP32");
  const i8 = bytesOf("INT8");
  const n4 = bytesOf("NF4");
  const rank = 16;
  const adapter = rank * (4096 + 4096) * 4;
  const MB = 2 ** 20;
  return {
    id: 6,
    claim: "A 4096×4096 layer is 64 MB in fp32, 16 MB in INT8, 8 MB + 0.5 MB adapter in 4-bit with LoRA",
    verdict: verdictOf([
      near(f32, 64 * MB, 0.02),
      near(i8, 16 * MB, 0.02),
      near(n4, 8 * MB, 0.02),
      near(adapter, 0.5 * MB, 0.02),
    ]),
    value: `FP32 ${formatBytes(f32)}, INT8 ${formatBytes(i8)} (per-channel scales), NF4 ${formatBytes(n4)} (block scales, double-quantised), LoRA r=16 fp32 ${formatBytes(adapter)}`,
    how: "the quant formats' exact packed sizes (bytesFor) and r·(in+out)·4 bytes for the adapter; MB = MiB here",
  };
}

/** 8. Gradient checkpointing needs O(√L) memory and is ~30% slower. */
export function checkpointClaim(): ClaimResult {
  const base = getPreset("llama2-7b").arch;
  const act = (L: number, c: string) =>
    estimatePlan(parse(c).plan(basePlan(withLayers(base, L), train(2048), { baseBytes: 2 })), c);
  const grow = act(128, "Ckpt[sqrt]").bytes.act / act(32, "Ckpt[sqrt]").bytes.act;
  const e = act(32, "Ckpt[sqrt]");
  const slower = e.flops.trainStep / act(32, "None").flops.trainStep;
  return {
    id: 8,
    claim: "Gradient checkpointing needs O(√L) memory and is ~30% slower",
    verdict: verdictOf([near(grow, 2, 0.25), near(slower, 1.3, 0.1)]),
    value: `Ckpt[sqrt] activations grow ×${grow.toFixed(2)} from 32 to 128 layers (√4 = 2); one extra forward makes a step ${(100 * (slower - 1)).toFixed(0)}% more FLOPs`,
    how: "estimator act (kept segment inputs + one recomputed segment) and train-step FLOPs, Llama-2-7B width, seq 2048",
  };
}

/** 9. MoE active memory is O(params / experts). */
export function moeClaim(): ClaimResult {
  const e = est("mixtral-8x7b", "Baseline", infer(1));
  const share = e.params.active / e.params.total;
  return {
    id: 9,
    claim: "MoE active memory is O(params/experts)",
    verdict: verdictOf([near(share, 1 / 8, 0.25), near(e.bytes.weights, (e.params.total * 2) / 8, 0.25)]),
    value: `Mixtral-8x7B touches ${formatCount(e.params.active)} of ${formatCount(e.params.total)} parameters per token (${formatPercent(share)}, not 1/8), and holds all ${formatBytes(e.bytes.weights)} of weights in memory`,
    how: "estimator parameter counts (top-2 of 8 experts + shared attention and embeddings) and fp16 weight bytes",
  };
}

/** 12. Training needs gradients 2× and optimizer states 2–3× the model size, 15–20× parameters in total. */
export function trainingBytesClaim(): ClaimResult {
  const e = estimate("llama2-7b", parse("Baseline"), train(2048));
  const p = e.params.total;
  const g = e.bytes.grad / e.bytes.weights;
  const o = e.bytes.optim / e.bytes.weights;
  const perParam = (e.bytes.weights + e.bytes.grad + e.bytes.optim) / p;
  return {
    id: 12,
    claim: "Training needs gradients 2× and optimizer states 2–3× the model size, 15–20× parameters in total",
    verdict: verdictOf([near(g, 2), inRange(o, 2, 3), inRange(perParam, 15, 20, 0)]),
    value: `gradients ${g.toFixed(1)}× and Adam state ${o.toFixed(1)}× the fp16 weights; ${perParam.toFixed(0)} bytes per parameter before activations`,
    how: "estimator for Llama-2-7B mixed-precision training: fp16 weights and grads, fp32 master weights + two moments",
  };
}

/** 13. GPT-3's memory per token is ~350 MB. */
export function gpt3Claim(): ClaimResult {
  const e = est("gpt3-175b", "Baseline", infer(2048));
  const kvPerToken = e.bytes.kv / 2048;
  const t = estimate("gpt3-175b", parse("Baseline"), train(2048));
  const actPerToken = t.bytes.act / 2048;
  return {
    id: 13,
    claim: "GPT-3's memory per token is ~350 MB",
    verdict: verdictOf([near(kvPerToken, 350e6), near(actPerToken, 350e6)]),
    value: `KV cache ${formatBytes(kvPerToken)} per token (fp16); training activations ${formatBytes(actPerToken)} per token at seq 2048`,
    how: "estimator for gpt3-175b: KV bytes / tokens, and saved activations / tokens with Standard attention",
  };
}
