/**
 * Model-level experiments on the trained small model, each printing a table (and `--json`):
 *   heads    MHA → GQA/MQA by mean-pooling K/V heads, validation loss as converted and after
 *            `--uptrain-steps N` (default 100) of uptraining (Ainslie et al. 2023).
 *   qlora    QLoRA fine-tuning on text pretraining never saw (half of the held-out files), loss on
 *            the other half before/after, and the train-step memory vs full FP32 fine-tuning.
 *   upcycle  MoE upcycled from the dense FFN (every expert a copy, small random router), trained
 *            briefly; validation loss vs the dense model trained for the same steps.
 * Usage: pnpm experiment <name> [--steps N] [--json]. Deterministic (seeded).
 */
import { disposeWasm, formatBytes, Rng } from "@tradeoffs/core-tensor";
import { corpusFiles, loadCorpus } from "../src/corpus.js";
import {
  evaluate,
  loadSmallWeights,
  parse,
  runTrain,
  Transformer,
  train,
  useFastestBackend,
} from "../src/index.js";

const args = process.argv.slice(2);
const name = args[0];
const flag = (f: string) => args.includes(`--${f}`);
const num = (f: string, d: number) => {
  const i = args.indexOf(`--${f}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const json = flag("json");
useFastestBackend();
const weights = loadSmallWeights();
const corpus = loadCorpus();
const EVAL = { batches: 8, batch: 8, seq: 128 };
const EVAL_SMALL = { batches: 4, batch: 8, seq: 128 };
const SEED = 99;

function table(title: string, headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const w = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  console.log(title);
  cells.forEach((r, k) => {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  "));
    if (k === 0) console.log(w.map((x) => "─".repeat(x)).join("  "));
  });
}

function valLoss(config: string, uptrain: number): { converted: number; uptrained: number } {
  const m = Transformer.create("small", parse(config), { weights, seed: SEED });
  try {
    const converted = evaluate(m, corpus.validation, EVAL);
    if (uptrain === 0) return { converted, uptrained: converted };
    train(m, corpus.train, new Rng(SEED), { steps: uptrain, batch: 8, seq: 128, lr: 1e-3, warmup: 10 });
    return { converted, uptrained: evaluate(m, corpus.validation, EVAL) };
  } finally {
    m.dispose();
  }
}

if (name === "heads") {
  const steps = num("uptrain-steps", 100);
  const rows = ["MHA", "GQA[kvHeads=3]", "GQA[kvHeads=2]", "MQA"].map((c) => ({
    config: c,
    ...valLoss(c, c === "MHA" ? 0 : steps),
  }));
  if (json) console.log(JSON.stringify({ experiment: "heads", uptrainSteps: steps, rows }));
  else
    table(
      `Validation loss (nats/byte) of the trained small model (6 query heads) after mean-pooling K/V heads; uptraining: ${steps} steps × 8 × 128 bytes`,
      ["layout", "as converted", "after uptraining"],
      rows.map((r) => [
        r.config,
        r.converted.toFixed(4),
        r.config === "MHA" ? "(reference)" : r.uptrained.toFixed(4),
      ]),
    );
} else if (name === "qlora") {
  const steps = num("steps", 300);
  const config = "NF4+LoRA[rank=16,alpha=32,targets=all]";
  // Domain adaptation to one genre of the Brown Corpus (default `j`, "learned": science and
  // scholarship): fine-tune on its training files, measure on its held-out files (never trained on).
  const genre =
    args[args.indexOf("--genre") + 1] && args.includes("--genre") ? args[args.indexOf("--genre") + 1]! : "j";
  const enc = (held: boolean) =>
    new TextEncoder().encode(
      corpusFiles()
        .filter((f) => f.genre === genre && f.heldOut === held)
        .map((f) => f.text)
        .join("\n"),
    );
  const tune = enc(false);
  const heldOut = enc(true);
  const m = Transformer.create("small", parse(config), { weights, seed: SEED });
  const before = evaluate(m, heldOut, EVAL_SMALL);
  const t0 = performance.now();
  train(m, tune, new Rng(SEED), { steps, batch: 8, seq: 128, lr: 2e-3, warmup: 20, weightDecay: 0 });
  const seconds = (performance.now() - t0) / 1000;
  const after = evaluate(m, heldOut, EVAL_SMALL);
  m.dispose();
  const mem = ["Baseline", config].map((c) => ({
    config: c,
    ...runTrain({ model: "small", config: parse(c), weights }, { batch: 8, seq: 128, steps: 1 }),
  }));
  const cats = ["weights", "adapters", "act", "grad", "optim"] as const;
  if (json)
    console.log(
      JSON.stringify({
        experiment: "qlora",
        config,
        steps,
        before,
        after,
        seconds,
        memory: mem.map((r) => ({ config: r.config, peak: r.peak, peakTotal: r.peakTotal })),
      }),
    );
  else {
    table(
      `QLoRA (${config}) fine-tuning on Brown genre '${genre}': ${steps} steps × 8 × 128 bytes of its training files (${tune.length} bytes), measured on its held-out files (${heldOut.length} bytes, never trained on) (${seconds.toFixed(0)} s)`,
      ["", "held-out loss (nats/byte)"],
      [
        ["before (NF4 base)", before.toFixed(4)],
        ["after QLoRA", after.toFixed(4)],
      ],
    );
    console.log();
    table(
      "Train-step memory, batch 8 × 128 (peak bytes in the ledger): full FP32 fine-tuning vs QLoRA",
      ["configuration", ...cats, "total peak"],
      mem.map((r) => [r.config, ...cats.map((c) => formatBytes(r.peak[c])), formatBytes(r.peakTotal)]),
    );
  }
} else if (name === "upcycle") {
  const steps = num("steps", 100);
  const run = (config: string) => {
    const m = Transformer.create("small", parse(config), { weights, seed: SEED });
    try {
      const start = evaluate(m, corpus.validation, EVAL);
      train(m, corpus.train, new Rng(SEED), { steps, batch: 8, seq: 128, lr: 1e-3, warmup: 10 });
      return { config, start, end: evaluate(m, corpus.validation, EVAL) };
    } finally {
      m.dispose();
    }
  };
  const rows = [run("Baseline"), run("MoE[experts=4,topK=2]"), run("MoE")];
  if (json) console.log(JSON.stringify({ experiment: "upcycle", steps, rows }));
  else
    table(
      `Upcycling the trained dense FFN into experts (router N(0, 0.001²)), then ${steps} steps × 8 × 128 bytes of training`,
      ["configuration", "val loss at start", "after training"],
      rows.map((r) => [r.config, r.start.toFixed(4), r.end.toFixed(4)]),
    );
} else {
  console.error("usage: pnpm experiment heads|qlora|upcycle [--steps N] [--uptrain-steps N] [--json]");
  process.exitCode = 2;
}
disposeWasm();
