/**
 * Claims about context length: what limits it (GPT-3's 2K), what Flash buys (GPT-4's 32K, "10×
 * longer", Claude's 100K) and the √ block-size rules. Decided by the estimator and published formulas;
 * for systems whose architecture is unpublished the value says what we compute and what is unknown.
 */
import { formatBytes } from "@tradeoffs/core-tensor";
import { estimate } from "../estimator.js";
import { getPreset } from "../presets.js";
import { parse } from "../registry.js";
import { type ClaimResult, est, GB, infer, near, train, verdictOf } from "./verdict.js";

/** Largest seq (≤ 2²⁴) whose estimate fits `budget` bytes (0 when even 1 token does not). */
export function maxSeqWithin(
  model: string,
  config: string,
  budget: number,
  workload: typeof infer | typeof train = infer,
): number {
  const c = parse(config);
  const fits = (n: number) => estimate(getPreset(model).name, c, workload(n)).totalBytes <= budget;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = 1 << 24;
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

const share = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;

/** 14. GPT-3 is limited to 2K tokens by attention's quadratic memory. */
export function gpt3ContextClaim(): ClaimResult {
  const inf = est("gpt3-175b", "Baseline", infer(2048));
  const std = estimate("gpt3-175b", parse("Baseline"), train(2048));
  const flash = estimate("gpt3-175b", parse("Flash"), train(2048));
  // The n² part of training activations: what Flash removes (scores/probabilities saved per head).
  const quadratic = std.bytes.act - flash.bytes.act;
  return {
    id: 14,
    claim: "GPT-3 is limited to 2K tokens by quadratic attention memory",
    verdict: verdictOf([inf.bytes.tmp / inf.totalBytes > 0.5, quadratic / std.totalBytes > 0.5]),
    value: `at 2048 tokens the attention temporaries are ${formatBytes(inf.bytes.tmp)} of ${formatBytes(inf.totalBytes)} for inference (${share(inf.bytes.tmp, inf.totalBytes)}); in training the n² activations are ${formatBytes(quadratic)} per sequence, ${share(quadratic, std.totalBytes)} of the step's ${formatBytes(std.totalBytes)} (weights, grads and Adam dominate); GPT-3's 2048 is its learned position table (n_ctx = 2048, Brown et al. 2020 §2.1), a design choice`,
    how: "estimator for gpt3-175b, batch 1: infer tmp vs total; train act with Standard minus with Flash, vs the whole train step",
  };
}

/** 15. GPT-4 reaches 32K "with Flash on the same hardware". */
export function gpt4FlashClaim(): ClaimResult {
  const at = (c: string, n: number) => est("gpt3-175b", c, infer(n));
  const s32 = at("Baseline", 32768);
  const f32 = at("Flash", 32768);
  const kv2 = at("Baseline", 2048).bytes.kv;
  return {
    id: 15,
    claim: 'GPT-4 reaches 32K context "with Flash on the same hardware"',
    verdict: "unverifiable",
    value: `on the GPT-3 shape (GPT-4's is unpublished) at 32K, Flash cuts attention temporaries from ${formatBytes(s32.bytes.tmp)} to ${formatBytes(f32.bytes.tmp)}, but the KV cache grows ${(f32.bytes.kv / kv2).toFixed(0)}× from 2K to ${formatBytes(f32.bytes.kv)} per sequence, which Flash does not touch; unknown: GPT-4's heads, KV layout (GQA/MQA), hardware and kernels`,
    how: "estimator for gpt3-175b as a stand-in, batch 1, Standard vs Flash; KV bytes at 2K and 32K",
  };
}

/** 16. Claude's 100K+ context "using similar techniques". */
export function claude100kClaim(): ClaimResult {
  const n = 100_000;
  const gqa = est("llama2-70b", "Baseline", infer(n));
  const mha = est("llama2-70b", "MHA", infer(n));
  const flash = est("llama2-70b", "Flash", infer(n));
  const arch = getPreset("llama2-70b").arch;
  const scores = arch.heads * n * n * 2;
  return {
    id: 16,
    claim: 'Claude handles 100K+ tokens "using similar techniques"',
    verdict: "unverifiable",
    value: `for a Llama-2-70B shape at 100K tokens: KV ${formatBytes(gqa.bytes.kv)} per sequence with its 8 KV heads, ${formatBytes(mha.bytes.kv)} with MHA; one layer's fp16 score matrix (64 heads) would be ${formatBytes(scores)}, Flash's temporaries ${formatBytes(flash.bytes.tmp)}; unknown: Claude's architecture, attention method and hardware`,
    how: "estimator for llama2-70b as a stand-in, batch 1, seq 100000; score matrix = heads · n² · 2 bytes",
  };
}

/** 17. Flash attention allows 10× longer sequences. */
export function flashLongerClaim(): ClaimResult {
  const inferStd = maxSeqWithin("llama2-7b", "Baseline", 80 * GB);
  const inferFlash = maxSeqWithin("llama2-7b", "Flash", 80 * GB);
  const trainStd = maxSeqWithin("gpt2", "Baseline", 16 * GB, train);
  const trainFlash = maxSeqWithin("gpt2", "Flash", 16 * GB, train);
  const ri = inferFlash / inferStd;
  const rt = trainFlash / trainStd;
  return {
    id: 17,
    claim: "Flash attention allows 10× longer sequences",
    verdict: verdictOf([ri >= 10 * 0.8, rt >= 10 * 0.8]),
    value: `Llama-2-7B inference in 80 GB: ${inferStd} → ${inferFlash} tokens (${ri.toFixed(1)}×, then the KV cache is the limit); GPT-2 training in 16 GB: ${trainStd} → ${trainFlash} tokens (${rt.toFixed(1)}×)`,
    how: "largest batch-1 seq whose estimated total fits the budget, Standard vs Flash (binary search over the estimator); holds at ≥ 8×",
  };
}

/**
 * Flash's tile size from Dao et al. 2022, Algorithm 1: B_c = ⌈M / 4d⌉, B_r = min(B_c, d) for an
 * on-chip memory of M elements and head dim d. Sequence length and batch do not appear.
 */
export function flashTile(sramElements: number, headDim: number): { rows: number; cols: number } {
  const cols = Math.ceil(sramElements / (4 * headDim));
  return { rows: Math.min(cols, headDim), cols };
}

/**
 * The paged-KV block size minimising a batch's overhead: per sequence, half a block of unused
 * slots (B/2 · bytesPerToken) plus its block table (n/B · entryBytes); summed over `batch`
 * sequences and minimised: B* = √(2 · batch · n · entryBytes / (batch · bytesPerToken)).
 */
export function pagedOptimalBlock(seq: number, bytesPerToken: number, batch = 1, entryBytes = 4): number {
  return Math.sqrt((2 * batch * seq * entryBytes) / (batch * bytesPerToken));
}

/** 22. Block sizes should scale as √batch and √seq_len. */
export function sqrtBlockClaim(): ClaimResult {
  // A100: 192 KB of SRAM per SM (Dao et al. 2022 §2.1), fp16 elements; Llama-2-7B head dim 128.
  const sram = (192 * 1024) / 2;
  const exponent = (f: (n: number) => number, n: number) => Math.log2(f(2 * n) / f(n));
  const flashSeqExp = exponent(() => flashTile(sram, 128).cols, 4096);
  const arch = getPreset("llama2-7b").arch;
  const perToken = 2 * arch.layers * arch.kvHeads * arch.headDim * 2;
  const pagedSeqExp = exponent((n) => pagedOptimalBlock(n, perToken), 4096);
  const pagedBatchExp = exponent((b) => pagedOptimalBlock(4096, perToken, b), 8);
  const tile = flashTile(sram, 128);
  return {
    id: 22,
    claim: "Block sizes should scale as √batch and √seq_len",
    verdict: verdictOf([
      near(flashSeqExp, 0.5, 0.1),
      near(pagedSeqExp, 0.5, 0.1),
      near(pagedBatchExp, 0.5, 0.1),
    ]),
    value: `Flash's tile is ${tile.rows}×${tile.cols} on an A100 for head dim 128, independent of seq and batch (exponent ${flashSeqExp.toFixed(2)}); a paged block minimising waste + table grows as seq^${pagedSeqExp.toFixed(2)} but is ${pagedOptimalBlock(4096, perToken).toFixed(2)} tokens at 4K on Llama-2-7B (fp16 KV ${formatBytes(perToken)}/token), so kernels, not this rule, set it (vLLM uses 16); batch does not enter (exponent ${pagedBatchExp.toFixed(2)})`,
    how: "B_c = ⌈M/4d⌉ (Dao et al. 2022, Alg. 1) with M = 96K fp16 elements; B* = √(2 n · 4 B / bytes per token); exponents from doubling n or batch",
  };
}
