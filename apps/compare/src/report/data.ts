/**
 * The data an HTML report is drawn from: plain JSON (numbers and strings), assembled by the CLI
 * from measured runs and estimates. Every number here came from code; the report only draws it.
 */

import type { Category } from "@tradeoffs/model";

/** Bytes per ledger category (the categories are core-tensor's `CATEGORIES`). */
export type CategoryBytes = Readonly<Record<Category, number>>;

export interface ReportRow {
  readonly config: string;
  /** Peak bytes measured in the ledger (per workload that ran) and the estimator's prediction. */
  readonly infer?: {
    readonly measured: CategoryBytes;
    readonly estimated: CategoryBytes;
    readonly prefillTokensPerSec: number;
    readonly decodeMsPerToken: number;
  };
  readonly train?: {
    readonly measured: CategoryBytes;
    readonly estimated: CategoryBytes;
    /** Median wall time of one whole training step (forward, backward, optimizer). */
    readonly stepMs: number;
    /** The step's shape: sequences per batch and tokens per sequence. */
    readonly batch: number;
    readonly seq: number;
  };
  readonly quality?: {
    readonly lossDelta: number;
    readonly top1Agreement: number;
    readonly klDivergence: number;
    readonly perplexity: number;
    readonly referencePerplexity: number;
  };
  /** The same configuration projected to the scale model. */
  readonly scale?: { readonly model: string; readonly estimated: CategoryBytes; readonly totalBytes: number };
}

/** One point of a sweep over sequence length (estimated, and measured where it ran here). */
export interface SweepPoint {
  readonly series: string;
  readonly seq: number;
  readonly bytes: number;
  readonly source: "measured" | "estimated";
  readonly timeMs?: number;
}

/** One checkpoint policy's schedule for the model's layer stack, and its activation bytes. */
export interface CheckpointSchedule {
  readonly policy: string;
  readonly layers: number;
  /**
   * The runs of consecutive layers executed under one checkpoint (the strategy's `segments(…)` for
   * the model's real byte sizes): a segment keeps only its first layer's input and recomputes the
   * rest in backward; a layer in no segment keeps everything it saves. `[]` checkpoints nothing.
   */
  readonly segments: readonly (readonly number[])[];
  /** The training step the schedule and the prediction are for (the measured step's shape). */
  readonly batch: number;
  readonly seq: number;
  readonly predictedActBytes: number;
  readonly measuredActBytes?: number;
  /** Fraction of the layers whose forward runs again in backward. */
  readonly extraForward: number;
}

/** KV blocks in use and running sequences over scheduler steps, per configuration. */
export interface ServeTimeline {
  readonly config: string;
  readonly steps: readonly {
    readonly step: number;
    readonly kvBytesUsed: number;
    readonly kvBytesReserved: number;
    readonly running: number;
  }[];
}

export interface ReportData {
  readonly title: string;
  readonly generatedAt: string;
  /** The executable model measured, e.g. `small`. */
  readonly model: string;
  readonly rows: readonly ReportRow[];
  /** Attention memory vs sequence length (Standard vs Flash) and KV bytes (MHA vs GQA vs MQA). */
  readonly attentionSweep: readonly SweepPoint[];
  readonly kvSweep: readonly SweepPoint[];
  readonly checkpoint: readonly CheckpointSchedule[];
  readonly serve: readonly ServeTimeline[];
  readonly notes: readonly string[];
}
