/**
 * Typed reads of a Hugging Face `config.json` object that collect every problem at once, each naming
 * the config field, the valid range and the value found. Not here: what the fields mean for a family
 * (the family modules beside this one) or reading the file (hf-config.ts).
 */
import { ConfigError } from "@tradeoffs/core-tensor";
import { ARCH_LIMITS } from "../estimate-input.js";

/** A parsed config.json object. */
export type HfJson = Readonly<Record<string, unknown>>;

/** Bounds on config.json sizes: the estimator's own bounds (estimate-input.ts) under HF's names. */
export const HF_LIMITS = {
  num_hidden_layers: ARCH_LIMITS.layers,
  hidden_size: ARCH_LIMITS.dModel,
  num_attention_heads: ARCH_LIMITS.heads,
  head_dim: ARCH_LIMITS.headDim,
  intermediate_size: ARCH_LIMITS.ffnHidden,
  vocab_size: ARCH_LIMITS.vocab,
  max_position_embeddings: ARCH_LIMITS.maxSeq,
  experts: ARCH_LIMITS.experts,
} as const;

function show(v: unknown): string {
  const s = v === undefined ? "nothing" : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * Reads fields of one config.json. A bad or missing field records a problem and reads as NaN, so
 * later cross-field checks skip it instead of adding noise; `done()` throws one `ConfigError` with
 * every problem.
 */
export class ConfigFields {
  private readonly problems: string[] = [];

  constructor(
    readonly json: HfJson,
    /** How messages name the file (`config.json` or its path). */
    readonly file: string,
  ) {}

  /** Whether the key is present with a non-null value. */
  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  /** Record a problem in the file's name. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** An integer field in `min..max`; absent or null reads `fallback` (a problem when there is none). */
  int(key: string, max: number, fallback?: number, min = 1): number {
    const v = this.has(key) ? this.json[key] : fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.problems.push(`${key} must be an integer in ${min}..${max}, got ${show(this.json[key])}`);
      return Number.NaN;
    }
    return v;
  }

  /** An optional integer field: undefined when absent or null. */
  optInt(key: string, max: number, min = 1): number | undefined {
    return this.has(key) ? this.int(key, max, undefined, min) : undefined;
  }

  /** A positive finite number (rope theta, norm epsilon); absent or null reads `fallback`. */
  positive(key: string, fallback: number): number {
    const v = this.has(key) ? this.json[key] : fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      this.problems.push(`${key} must be a positive number, got ${show(this.json[key])}`);
      return Number.NaN;
    }
    return v;
  }

  /** A boolean field; absent or null reads `fallback`. */
  flag(key: string, fallback: boolean): boolean {
    const v = this.has(key) ? this.json[key] : fallback;
    if (typeof v !== "boolean") {
      this.problems.push(`${key} must be true or false, got ${show(this.json[key])}`);
      return fallback;
    }
    return v;
  }

  /** A string field; absent or null reads `fallback`. */
  text(key: string, fallback: string): string {
    const v = this.has(key) ? this.json[key] : fallback;
    if (typeof v !== "string") {
      this.problems.push(`${key} must be a string, got ${show(this.json[key])}`);
      return fallback;
    }
    return v;
  }

  /** A list of integers in `0..max` (layer indices); absent or null reads an empty list. */
  intList(key: string, max: number): number[] {
    const v = this.has(key) ? this.json[key] : [];
    if (
      !Array.isArray(v) ||
      !v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= max)
    ) {
      this.problems.push(`${key} must be a list of integers in 0..${max}, got ${show(this.json[key])}`);
      return [];
    }
    return v as number[];
  }

  /** Throw one `ConfigError` listing every problem recorded, each prefixed with the file. */
  done(): void {
    if (this.problems.length > 0) {
      throw new ConfigError(
        this.problems.map((p) => `${this.file}: ${p}`),
        { file: this.file },
      );
    }
  }
}
