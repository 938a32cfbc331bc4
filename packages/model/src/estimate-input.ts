/**
 * Bounds on what the estimator accepts, checked before any work: every size a positive (or, for
 * generated tokens, non-negative) safe integer within a bound no real model approaches, so a typo
 * or a hostile config.json gets a ConfigError naming each bad field instead of NaN, negative bytes
 * or a process that runs out of memory. Not here: the formulas (estimator.ts).
 */
import { type ArchSpec, ConfigError, type WorkloadSpec } from "@tradeoffs/core-tensor";

/** Upper bounds (inclusive) on architecture sizes; published models sit orders of magnitude below. */
export const ARCH_LIMITS = {
  layers: 10_000,
  dModel: 1_048_576,
  heads: 65_536,
  headDim: 65_536,
  ffnHidden: 16_777_216,
  vocab: 16_777_216,
  maxSeq: 1 << 30,
  experts: 65_536,
} as const;

/** Upper bound on batch × tokens of one estimated workload. */
export const MAX_WORKLOAD_TOKENS = 2 ** 40;

function checkInt(problems: string[], what: string, v: unknown, min: number, max: number): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    problems.push(`${what} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
}

/** Every problem with an architecture's sizes (empty when fine). */
export function archProblems(arch: ArchSpec): string[] {
  const p: string[] = [];
  const n = `${arch.name}:`;
  checkInt(p, `${n} layers`, arch.layers, 1, ARCH_LIMITS.layers);
  checkInt(p, `${n} dModel`, arch.dModel, 1, ARCH_LIMITS.dModel);
  checkInt(p, `${n} heads`, arch.heads, 1, ARCH_LIMITS.heads);
  checkInt(p, `${n} kvHeads`, arch.kvHeads, 1, ARCH_LIMITS.heads);
  checkInt(p, `${n} headDim`, arch.headDim, 1, ARCH_LIMITS.headDim);
  checkInt(p, `${n} ffnHidden`, arch.ffnHidden, 1, ARCH_LIMITS.ffnHidden);
  checkInt(p, `${n} vocab`, arch.vocab, 1, ARCH_LIMITS.vocab);
  checkInt(p, `${n} maxSeq`, arch.maxSeq, 1, ARCH_LIMITS.maxSeq);
  checkInt(p, `${n} experts`, arch.experts, 1, ARCH_LIMITS.experts);
  checkInt(p, `${n} sharedExperts`, arch.sharedExperts, 0, ARCH_LIMITS.experts);
  checkInt(p, `${n} topK`, arch.topK, 1, Math.max(1, arch.experts));
  if (arch.window !== undefined) checkInt(p, `${n} window`, arch.window, 1, ARCH_LIMITS.maxSeq);
  if (arch.windowLayers !== undefined) checkInt(p, `${n} windowLayers`, arch.windowLayers, 0, arch.layers);
  if (arch.layerNorms !== undefined) checkInt(p, `${n} layerNorms`, arch.layerNorms, 0, 16);
  if (arch.denseLayers !== undefined) {
    checkInt(p, `${n} denseLayers`, arch.denseLayers, 0, arch.layers);
    if (arch.denseLayers > 0)
      checkInt(p, `${n} denseFfnHidden`, arch.denseFfnHidden, 1, ARCH_LIMITS.ffnHidden);
  }
  if (arch.mla) {
    checkInt(p, `${n} mla.kvLoraRank`, arch.mla.kvLoraRank, 1, ARCH_LIMITS.dModel);
    if (arch.mla.qLoraRank !== undefined)
      checkInt(p, `${n} mla.qLoraRank`, arch.mla.qLoraRank, 1, ARCH_LIMITS.dModel);
    checkInt(p, `${n} mla.ropeHeadDim`, arch.mla.ropeHeadDim, 1, ARCH_LIMITS.headDim);
    checkInt(p, `${n} mla.nopeHeadDim`, arch.mla.nopeHeadDim, 0, ARCH_LIMITS.headDim);
  }
  if (Number.isInteger(arch.heads) && Number.isInteger(arch.kvHeads) && arch.heads % arch.kvHeads !== 0) {
    p.push(`${n} kvHeads (${arch.kvHeads}) must divide heads (${arch.heads})`);
  }
  return p;
}

/** Every problem with a workload's sizes (empty when fine). */
export function workloadProblems(w: WorkloadSpec): string[] {
  const p: string[] = [];
  checkInt(p, "batch", w.batch, 1, MAX_WORKLOAD_TOKENS);
  // A serve workload sizes its trace elsewhere (seq 0); every other workload needs tokens.
  checkInt(
    p,
    w.kind === "train" ? "seq" : "prompt (seq)",
    w.seq,
    w.kind === "serve" ? 0 : 1,
    MAX_WORKLOAD_TOKENS,
  );
  checkInt(p, "generate", w.generate, 0, MAX_WORKLOAD_TOKENS);
  if (p.length === 0 && w.batch * (w.seq + w.generate) > MAX_WORKLOAD_TOKENS) {
    p.push(`batch × (seq + generate) must be at most 2^40 tokens, got ${w.batch * (w.seq + w.generate)}`);
  }
  return p;
}

/** Throw one ConfigError listing every problem with the architecture and the workload. */
export function checkEstimateInput(arch: ArchSpec, workload: WorkloadSpec): void {
  const problems = [...archProblems(arch), ...workloadProblems(workload)];
  if (problems.length > 0) throw new ConfigError(problems, { model: arch.name });
}
