/**
 * `pnpm bench llm-int8-outliers [--threshold T] [--json]`: the trained small model with
 * LLMInt8[threshold=T] (default 6) on held-out text: per linear layer, the share of input feature
 * columns that took the f32 outlier path (mean over the forward passes) and the distinct columns
 * ever flagged; then validation loss vs FP32 and vs plain int8 × int8 (threshold=inf).
 * Deterministic (fixed batches). Not a test: nothing is asserted.
 */
import { type LinearWeight, MemoryLedger, withLedger } from "@tradeoffs/core-tensor";
import { LlmInt8Linear } from "@tradeoffs/quant";
import { loadCorpus } from "../src/corpus.js";
import { evaluate, loadSmallWeights, parse, Transformer } from "../src/index.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const ti = args.indexOf("--threshold");
const threshold = ti >= 0 ? Number(args[ti + 1]) : 6;
const EVAL = { batches: 2, batch: 4, seq: 128 };

const weights = loadSmallWeights();
const corpus = loadCorpus();

function run(config: string) {
  return withLedger(new MemoryLedger(), () => {
    const m = Transformer.create("small", parse(config), { weights });
    try {
      const loss = evaluate(m, corpus.validation, EVAL);
      const layers: { layer: string; columns: number; mean: number; ever: number; applies: number }[] = [];
      m.layers.forEach((l, i) => {
        const named: [string, LinearWeight | unknown][] = [
          ["q", l.q],
          ["k", l.k],
          ["v", l.v],
          ["o", l.o],
          ...l.ffn.namedWeights(),
        ];
        for (const [name, w] of named) {
          if (!(w instanceof LlmInt8Linear)) continue;
          const t = w.totals();
          layers.push({
            layer: `${i}.${name}`,
            columns: t.columns,
            mean: t.meanOutlierFraction,
            ever: t.columnsEverOutlier,
            applies: t.applies,
          });
        }
      });
      return { loss, layers };
    } finally {
      m.dispose();
    }
  });
}

const t = threshold === Number.POSITIVE_INFINITY ? "inf" : String(threshold);
const mixed = run(`LLMInt8[threshold=${t}]`);
const plain = run("LLMInt8[threshold=inf]");
const fp32 = run("FP32");

if (json) {
  process.stdout.write(
    `${JSON.stringify({ threshold, eval: EVAL, fp32: fp32.loss, plainInt8: plain.loss, llmInt8: mixed }, null, 2)}\n`,
  );
} else {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  console.log(
    `LLMInt8[threshold=${t}] on small, validation ${EVAL.batches}×${EVAL.batch}×${EVAL.seq} tokens`,
  );
  console.log("layer     inputs  outlier cols/pass (mean)  distinct cols ever  passes");
  for (const r of mixed.layers) {
    console.log(
      `${r.layer.padEnd(9)} ${String(r.columns).padStart(6)}  ${`${pct(r.mean)} (${(r.mean * r.columns).toFixed(1)})`.padStart(24)}  ${String(r.ever).padStart(18)}  ${String(r.applies).padStart(6)}`,
    );
  }
  console.log(
    `validation loss: FP32 ${fp32.loss.toFixed(4)}, LLMInt8[threshold=${t}] ${mixed.loss.toFixed(4)} (Δ ${(mixed.loss - fp32.loss).toFixed(4)}), int8×int8 only (threshold=inf) ${plain.loss.toFixed(4)} (Δ ${(plain.loss - fp32.loss).toFixed(4)})`,
  );
}
