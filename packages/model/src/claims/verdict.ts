/**
 * The claims check's vocabulary: a claim's result, its verdict, and the rules that turn numbers into
 * a verdict ("≈" within 20% or inside a claimed range). No claim is stated here.
 */
import { type Estimate, estimate } from "../estimator.js";
import { getPreset } from "../presets.js";
import { parse } from "../registry.js";

/** What checking a claim concluded. */
export type Verdict = "holds" | "wrong" | "misleading" | "unverifiable";

/** One rule of thumb, the number(s) the code gives for it, and the verdict computed from them. */
export interface ClaimResult {
  /** The claim's number, 1–13, stable across runs. */
  readonly id: number;
  /** The rule of thumb as people state it. */
  readonly claim: string;
  /** holds (every reading agrees), misleading (some do), wrong (none do) or unverifiable (not measured). */
  readonly verdict: Verdict;
  /** The number(s) we get. */
  readonly value: string;
  /** How it was computed. */
  readonly how: string;
}

/** Options of {@link checkClaims}. */
export interface ClaimsOptions {
  /** Skip the measured parts (for fast tests): their claims become `unverifiable`. */
  readonly measure?: boolean;
}

/** Relative agreement used for "≈": within 20% of the claimed value or inside the claimed range. */
export const WITHIN = 0.2;

/** `value` within `tol` (relative) of `claimed`. */
export function near(value: number, claimed: number, tol = WITHIN): boolean {
  return Math.abs(value - claimed) <= tol * Math.abs(claimed);
}

/** `value` inside [lo, hi], each end widened by `tol` (relative). */
export function inRange(value: number, lo: number, hi: number, tol = WITHIN): boolean {
  return value >= lo * (1 - tol) && value <= hi * (1 + tol);
}

/** holds when every reading agrees, wrong when none does, misleading when only some do. */
export function verdictOf(readings: readonly boolean[]): Verdict {
  if (readings.every(Boolean)) return "holds";
  if (readings.some(Boolean)) return "misleading";
  return "wrong";
}

export const GB = 1e9;
export const infer = (seq: number, batch = 1) => ({ kind: "infer" as const, batch, seq, generate: 0 });
export const train = (seq: number, batch = 1) => ({ kind: "train" as const, batch, seq, generate: 0 });
export const est = (model: string, config: string, w: ReturnType<typeof infer>): Estimate =>
  estimate(getPreset(model).name, parse(config), w);
