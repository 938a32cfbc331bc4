/**
 * `infer`: batch B, prompt P, generate G tokens greedily — prefill, then decode with the KV cache.
 * Measures time per phase and peak bytes per category.
 */
import { noGrad, ValueError } from "@tradeoffs/core-tensor";
import { corpusFor } from "../corpus.js";
import { type Measured, measured, median, type RunSpec } from "./common.js";
import type { InferSamples } from "./repeat.js";

/** Options of `runInfer`: batch × (prompt + generate) tokens. */
export interface InferOptions {
  /** Sequences decoded together (B); default 1. */
  readonly batch?: number;
  /** Prompt tokens per sequence (P); default 64. */
  readonly prompt?: number;
  /** Tokens generated after the prompt (G); default 32. */
  readonly generate?: number;
  /**
   * The B prompts' token ids (each at least P long; the first P are used). Default: held-out corpus
   * windows (`prompts()`), which need the corpus files (Node); a browser passes its own.
   */
  readonly input?: readonly (readonly number[])[];
}

/**
 * What `runInfer` measured: peak bytes per category, times and throughput, beside the estimate for the same
 * run.
 */
export interface InferResult extends Measured {
  /** Discriminates the workload results. */
  readonly kind: "infer";
  /** Sequences decoded together. */
  readonly batch: number;
  /** Prompt tokens per sequence. */
  readonly prompt: number;
  /** Tokens generated per sequence. */
  readonly generate: number;
  /** Time of the prefill (the whole prompt, every sequence), in ms. */
  readonly prefillMs: number;
  /** Median time of one decode step (one token for each of the B sequences). */
  readonly decodeMsPerStep: number;
  /** Prompt tokens processed per second in the prefill (B · P / prefill time). */
  readonly prefillTokensPerSec: number;
  /** Tokens generated per second while decoding (B per step; NaN when G ≤ 1). */
  readonly decodeTokensPerSec: number;
  /** Greedy tokens of the first sequence (for equality checks across configurations). */
  readonly tokens: readonly number[];
  /** Every run's times when the result merges repeated runs (`mergeInfer`); times above are medians. */
  readonly samples?: InferSamples;
}

/** Prompts: the first B·P bytes of evenly spaced held-out windows (folded into small vocabularies). */
export function prompts(batch: number, length: number, vocab = 256): number[][] {
  const text = corpusFor(vocab).validation;
  const stride = Math.floor((text.length - length) / batch);
  return Array.from({ length: batch }, (_, b) => Array.from(text.subarray(b * stride, b * stride + length)));
}

/** The first P ids of each of the first B given prompts; a ValueError when there are too few of either. */
function givenPrompts(input: readonly (readonly number[])[], B: number, P: number): number[][] {
  const short = input.findIndex((ids) => ids.length < P);
  if (input.length < B || (short >= 0 && short < B)) {
    throw new ValueError(
      `infer input: need ${B} prompts of at least ${P} tokens each, got ${input.length} of lengths ${input.map((ids) => ids.length).join(", ")}`,
      { batch: B, prompt: P },
    );
  }
  return input.slice(0, B).map((ids) => ids.slice(0, P));
}

/**
 * Builds the model of `spec`, prefills B prompts and decodes greedily, measuring bytes (through the ledger)
 * and time; returns them with the estimate for the same workload.
 */
export function runInfer(spec: RunSpec, options: InferOptions = {}): InferResult {
  const B = options.batch ?? 1;
  const P = options.prompt ?? 64;
  const G = options.generate ?? 32;
  const workload = { kind: "infer", batch: B, seq: P, generate: G } as const;
  return measured(spec, workload, (model) =>
    noGrad(() => {
      const input = options.input ? givenPrompts(options.input, B, P) : prompts(B, P, model.arch.vocab);
      const t0 = performance.now();
      let prefillMs = 0;
      let last = t0;
      const stepMs: number[] = [];
      const onStep = (step: number) => {
        const now = performance.now();
        if (step === 0) prefillMs = now - t0;
        else stepMs.push(now - last);
        last = now;
      };
      const out = model.generate(input, G, { onStep })[0]!;
      const decodeSteps = Math.max(1, G - 1);
      // The median step: a collection pause in one step does not move the figure.
      const decodeMs = median(stepMs) * decodeSteps;
      return {
        kind: "infer" as const,
        batch: B,
        prompt: P,
        generate: G,
        prefillMs,
        decodeMsPerStep: G > 1 ? decodeMs / decodeSteps : Number.NaN,
        prefillTokensPerSec: (B * P) / (prefillMs / 1000),
        decodeTokensPerSec: G > 1 ? (B * decodeSteps) / (decodeMs / 1000) : Number.NaN,
        tokens: out,
      };
    }),
  );
}
