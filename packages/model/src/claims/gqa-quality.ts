/**
 * Claim 23, measured: GQA costs "<1% quality". Our figure: validation loss of the small model with
 * GQA[kvHeads=2] uptrained from MHA (the shipped weights, 5% of pretraining's steps) against MHA on
 * the same held-out batches; the paper's own figure beside it. Not here: the uptraining (uptrain-heads).
 */
import { MemoryLedger, withLedger } from "@tradeoffs/core-tensor";
import { shippedWeightsFor } from "../checkpoint-file.js";
import { loadCorpus } from "../corpus.js";
import { parse } from "../registry.js";
import { evaluate } from "../training.js";
import { Transformer } from "../transformer.js";
import { type ClaimResult, verdictOf } from "./verdict.js";

/**
 * Ainslie et al. 2023 (GQA), Table 1: T5-XXL uptrained with 5% of pretraining compute, average over
 * summarisation, translation and QA: MHA 47.2, GQA-8 47.1.
 */
export const GQA_PAPER = {
  mha: 47.2,
  gqa: 47.1,
  source: "Ainslie et al. 2023, Table 1 (T5-XXL, GQA-8, 5% uptraining)",
};

/** Relative quality loss: how much worse `value` is than `reference`, as a fraction of it. */
export function relativeLoss(reference: number, value: number, higherIsBetter: boolean): number {
  return higherIsBetter ? (reference - value) / reference : (value - reference) / reference;
}

const CLAIM = 'GQA costs "<1% quality loss"';
const EVAL = { batches: 4, batch: 8, seq: 128 };

/** 23. GQA costs less than 1% quality (measured on the small model; the paper's figure beside). */
export function gqaQualityClaim(measure: boolean): ClaimResult {
  const paper = relativeLoss(GQA_PAPER.mha, GQA_PAPER.gqa, true);
  const paperText = `paper: ${(100 * paper).toFixed(2)}% (${GQA_PAPER.mha} → ${GQA_PAPER.gqa}, ${GQA_PAPER.source})`;
  if (!measure)
    return {
      id: 23,
      claim: CLAIM,
      verdict: "unverifiable",
      value: `not measured; ${paperText}`,
      how: "needs a measurement",
    };
  const loss = (config: string) =>
    withLedger(new MemoryLedger(), () => {
      const c = parse(config);
      const chosen = shippedWeightsFor("small", c);
      if (!chosen || (config !== "MHA" && chosen.kind !== "uptrained")) return null;
      const m = Transformer.create("small", c, { weights: chosen.weights });
      try {
        return evaluate(m, loadCorpus().validation, EVAL);
      } finally {
        m.dispose();
      }
    });
  const mha = loss("MHA");
  const gqa = loss("GQA[kvHeads=2]");
  if (mha === null || gqa === null)
    return {
      id: 23,
      claim: CLAIM,
      verdict: "unverifiable",
      value: `no shipped small/uptrained weights (run pnpm train-small and pnpm uptrain-heads); ${paperText}`,
      how: "needs the shipped weights",
    };
  const ours = relativeLoss(mha, gqa, false);
  const ppl = Math.exp(gqa - mha) - 1;
  return {
    id: 23,
    claim: CLAIM,
    verdict: verdictOf([ours < 0.01, paper < 0.01]),
    value: `small, GQA[kvHeads=2] (6 → 2 K/V heads) uptrained: validation loss ${mha.toFixed(4)} → ${gqa.toFixed(4)} nats/byte (+${(100 * ours).toFixed(1)}%, perplexity +${(100 * ppl).toFixed(1)}%); ${paperText}`,
    how: `same ${EVAL.batches}×${EVAL.batch}×${EVAL.seq} held-out bytes for both; the shipped uptrained weights (pnpm uptrain-heads); our model is tiny and uptrained briefly, the paper's is T5-XXL`,
  };
}
