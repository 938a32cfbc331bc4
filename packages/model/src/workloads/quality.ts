/**
 * `quality`: the configuration against the FP32 reference (the Baseline configuration on the MHA
 * weights) on the same held-out windows: max/mean logit error, KL(reference ‖ configuration), top-1
 * agreement, validation loss / perplexity of both, and which weights the configuration ran on.
 */
import {
  crossEntropy,
  getBackend,
  noGrad,
  reshape,
  scope,
  type Tensor,
  wasmFlavor,
} from "@tradeoffs/core-tensor";
import {
  describeWeights,
  type HeadsWeights,
  isShippedWeights,
  loadSmallWeights,
  shippedWeightsFor,
} from "../checkpoint-file.js";
import { corpusFor } from "../corpus.js";
import { parse } from "../registry.js";
import { fixedBatches } from "../training.js";
import { Transformer } from "../transformer.js";
import { type Measured, measured, type RunSpec } from "./common.js";

/** Options of `runQuality`: `batches` batches of `batch` × `seq` held-out tokens. */
export interface QualityOptions {
  /** Validation batches; default 2. */
  readonly batches?: number;
  /** Sequences per batch; default 4. */
  readonly batch?: number;
  /** Tokens per sequence; default 128. */
  readonly seq?: number;
  /**
   * With the shipped small weights: `uptrained` (default) runs GQA[kvHeads=2] / MQA configurations
   * on their uptrained weights; `converted` on the MHA weights mean-pooled (the figure before uptraining).
   */
  readonly headsWeights?: HeadsWeights;
}

/**
 * What `runQuality` measured: the configuration's logits and loss against the Baseline model's on the same
 * held-out tokens, with peak bytes and the estimate.
 */
export interface QualityResult extends Measured {
  /** Discriminates the workload results. */
  readonly kind: "quality";
  /** Tokens compared. */
  readonly tokens: number;
  /** Largest |logit − reference logit| over every token and vocabulary entry. */
  readonly maxAbsLogitError: number;
  /** Mean |logit − reference logit| over every token and vocabulary entry. */
  readonly meanAbsLogitError: number;
  /** Mean over tokens of KL(p_ref ‖ p_config), nats. */
  readonly klDivergence: number;
  /** Fraction of tokens whose argmax equals the reference's. */
  readonly top1Agreement: number;
  /** Validation cross-entropy, nats per byte. */
  readonly loss: number;
  /** The Baseline model's validation cross-entropy on the same tokens, nats per byte. */
  readonly referenceLoss: number;
  /** exp(loss): perplexity per byte. */
  readonly perplexity: number;
  /** exp(referenceLoss). */
  readonly referencePerplexity: number;
  /**
   * The weights the configuration ran on: `trained (small, 800 steps)`, `uptrained (GQA kvHeads=2,
   * 40 steps)`, `converted from MHA (...)`, `given`, or `random init (seed 0)`. The reference runs on
   * the MHA weights.
   */
  readonly weights: string;
}

/**
 * The reference's pass over the held-out batches: its logits and loss per batch. The compare suite
 * checks every configuration against the same reference on the same tokens, so the last pass is kept
 * (plain arrays outside the ledger, 1 MiB for small's default 2 × 4 × 128 tokens) and reused while the
 * model, weights, seed, batches, backend and kernel flavor are the same: one reference forward per
 * suite instead of one per configuration. The figures are the same either way.
 */
interface ReferencePass {
  readonly key: string;
  readonly weights: unknown;
  readonly logits: Float32Array[];
  /** Per batch: each row's log-sum-exp and argmax of the logits (a third of the comparison's exps). */
  readonly rows: ReferenceRows[];
  readonly losses: number[];
}

interface ReferenceRows {
  readonly lse: Float64Array;
  readonly top: Int32Array;
}

/** Each of `rows` rows of `V` logits: its log-sum-exp (max-shifted) and the first index of its max. */
function referenceRows(logits: Float32Array, rows: number, V: number): ReferenceRows {
  const lse = new Float64Array(rows);
  const top = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const o = row * V;
    let m = Number.NEGATIVE_INFINITY;
    let at = 0;
    for (let j = 0; j < V; j++) {
      if (logits[o + j]! > m) {
        m = logits[o + j]!;
        at = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(logits[o + j]! - m);
    lse[row] = m + Math.log(sum);
    top[row] = at;
  }
  return { lse, top };
}
let lastReference: ReferencePass | undefined;

/** What the reference pass depends on besides its weights object. */
function referenceKey(model: string, seed: number, nb: number, B: number, T: number): string {
  return [model, seed, nb, B, T, getBackend().name, wasmFlavor()].join("|");
}

/**
 * Runs the configuration and the Baseline model over the same held-out tokens and compares their logits
 * (errors, KL, top-1 agreement) and losses. The Baseline's pass is reused from the previous call when
 * nothing it depends on changed (`ReferencePass`).
 */
export function runQuality(spec: RunSpec, options: QualityOptions = {}): QualityResult {
  const nb = options.batches ?? 2;
  const B = options.batch ?? 4;
  const T = options.seq ?? 128;
  const workload = { kind: "quality", batch: B, seq: T, generate: 0 } as const;
  // Shipped weights: the configuration's own (uptrained when its heads layout has them), the
  // reference on the MHA model. Caller's weights: both run on them.
  const shipped = spec.weights !== undefined && isShippedWeights(spec.weights);
  const chosen = shipped
    ? shippedWeightsFor(spec.model, spec.config, { heads: options.headsWeights ?? "uptrained" })
    : undefined;
  const referenceWeights = shipped ? loadSmallWeights() : spec.weights;
  const weightsUsed =
    chosen?.source ?? describeWeights(spec.model, spec.config, spec.weights, spec.seed ?? 0);
  const run = chosen ? { ...spec, weights: chosen.weights } : spec;
  const key = referenceKey(spec.model, spec.seed ?? 0, nb, B, T);
  const kept =
    lastReference?.key === key && lastReference.weights === referenceWeights ? lastReference : undefined;
  return measured(run, workload, (model) =>
    noGrad(() => {
      const reference = kept
        ? undefined
        : Transformer.create(spec.model, parse("Baseline"), {
            seed: spec.seed ?? 0,
            ...(referenceWeights ? { weights: referenceWeights } : {}),
          });
      const pass: ReferencePass = kept ?? {
        key,
        weights: referenceWeights,
        logits: [],
        rows: [],
        losses: [],
      };
      let maxErr = 0;
      let sumErr = 0;
      let kl = 0;
      let agree = 0;
      let loss = 0;
      let refLoss = 0;
      let count = 0;
      try {
        let batch = 0;
        for (const { ids, targets } of fixedBatches(corpusFor(model.arch.vocab).validation, nb, B, T)) {
          const a = model.forward(ids);
          const r: Tensor | undefined = reference?.forward(ids);
          const V = a.dim(-1);
          const ad = a.data;
          const rd = r ? r.data : pass.logits[batch]!;
          const ref = r ? referenceRows(rd, B * T, V) : pass.rows[batch]!;
          if (r) pass.rows.push(ref);
          for (let row = 0; row < B * T; row++) {
            const o = row * V;
            let ma = Number.NEGATIVE_INFINITY;
            let ia = 0;
            for (let j = 0; j < V; j++) {
              const e = Math.abs(ad[o + j]! - rd[o + j]!);
              if (e > maxErr) maxErr = e;
              sumErr += e;
              if (ad[o + j]! > ma) {
                ma = ad[o + j]!;
                ia = j;
              }
            }
            if (ia === ref.top[row]) agree++;
            let sa = 0;
            for (let j = 0; j < V; j++) sa += Math.exp(ad[o + j]! - ma);
            const lsa = ma + Math.log(sa);
            const lsr = ref.lse[row]!;
            for (let j = 0; j < V; j++) {
              const lpr = rd[o + j]! - lsr;
              kl += Math.exp(lpr) * (lpr - (ad[o + j]! - lsa));
            }
          }
          scope(() => {
            loss += crossEntropy(reshape(a, [B * T, V]), reshape(targets, [B * T])).item();
            if (r) {
              pass.logits.push(r.data.slice());
              pass.losses.push(crossEntropy(reshape(r, [B * T, V]), reshape(targets, [B * T])).item());
            }
          });
          refLoss += pass.losses[batch]!;
          count += B * T;
          batch++;
          for (const t of [a, r, ids, targets]) t?.dispose();
        }
        if (!kept) lastReference = pass;
      } finally {
        reference?.dispose();
      }
      const V = model.arch.vocab;
      return {
        kind: "quality" as const,
        tokens: count,
        maxAbsLogitError: maxErr,
        meanAbsLogitError: sumErr / (count * V),
        klDivergence: kl / count,
        top1Agreement: agree / count,
        loss: loss / nb,
        referenceLoss: refLoss / nb,
        perplexity: Math.exp(loss / nb),
        referencePerplexity: Math.exp(refLoss / nb),
        weights: weightsUsed,
      };
    }),
  );
}
