/**
 * `pnpm bench optimizers [--steps N] [--scratch] [--json]`: N steps (default 20) of each optimizer
 * on the small model from its shipped weights (or, with --scratch, from its seeded initialisation),
 * batch 4 × 64 bytes of training text, warmup 2 then cosine, each optimizer at its own default
 * learning rate; then validation loss before/after, and `optim` bytes measured by the ledger beside
 * the estimator's. Deterministic (seeded batches, fixed validation windows). Nothing is asserted.
 */
import { MemoryLedger, Rng, withLedger } from "@tradeoffs/core-tensor";
import { loadCorpus } from "../src/corpus.js";
import {
  estimate,
  evaluate,
  formatBytes,
  loadSmallWeights,
  OPTIMIZERS,
  parse,
  type TrainingChoice,
  Transformer,
  train,
} from "../src/index.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const scratch = args.includes("--scratch");
const si = args.indexOf("--steps");
const STEPS = si >= 0 ? Number(args[si + 1]) : 20;
if (!(Number.isInteger(STEPS) && STEPS > 0)) {
  process.stderr.write(`--steps must be a positive integer, got '${args[si + 1]}'\n`);
  process.exit(2);
}
const BATCH = 4;
const SEQ = 64;
const EVAL = { batches: 2, batch: 8, seq: 128 };

const ROWS: { label: string; choice: TrainingChoice }[] = [
  { label: "adamw", choice: { optimizer: { name: "adamw" } } },
  { label: "adamw8bit", choice: { optimizer: { name: "adamw8bit" } } },
  { label: "adafactor", choice: { optimizer: { name: "adafactor" } } },
  { label: "sgd (momentum 0.9)", choice: { optimizer: { name: "sgd" } } },
  { label: "lion", choice: { optimizer: { name: "lion" } } },
  { label: "adamw, bf16 params", choice: { optimizer: { name: "adamw" }, params: "bf16" } },
  {
    label: "adamw, bf16 + master",
    choice: { optimizer: { name: "adamw" }, params: "bf16", masterWeights: true },
  },
  { label: "adamw, grad-accum 2", choice: { optimizer: { name: "adamw" }, gradAccum: 2 } },
];

const weights = scratch ? undefined : loadSmallWeights();
const corpus = loadCorpus();
const config = parse("Baseline");
const workload = { kind: "train" as const, batch: BATCH, seq: SEQ, generate: 0 };
const create = () => Transformer.create("small", config, { seed: 0, ...(weights ? { weights } : {}) });
// Every row starts from the same weights: one validation loss before.
const before = withLedger(new MemoryLedger(), () => {
  const m = create();
  try {
    return evaluate(m, corpus.validation, EVAL);
  } finally {
    m.dispose();
  }
});

const rows = ROWS.map(({ label, choice }) => {
  const ledger = new MemoryLedger({ name: label });
  return withLedger(ledger, () => {
    const model = create();
    try {
      ledger.resetPeak();
      const t0 = performance.now();
      const { losses } = train(model, corpus.train, new Rng(7), {
        steps: STEPS,
        batch: BATCH,
        seq: SEQ,
        warmup: 2,
        ...choice,
      });
      const ms = (performance.now() - t0) / STEPS;
      const optim = ledger.peak("optim");
      const after = evaluate(model, corpus.validation, EVAL);
      const est = estimate("small", config, workload, { training: choice }).bytes.optim;
      const lr = choice.optimizer?.lr ?? OPTIMIZERS[choice.optimizer?.name ?? "adamw"].defaultLr;
      return {
        label,
        lr,
        before,
        after,
        lastTrainLoss: losses[losses.length - 1]!,
        optim,
        estimate: est,
        msPerStep: ms,
      };
    } finally {
      model.dispose();
    }
  });
});

if (json) {
  process.stdout.write(
    `${JSON.stringify({ steps: STEPS, batch: BATCH, seq: SEQ, scratch, eval: EVAL, rows }, null, 2)}\n`,
  );
} else {
  const from = scratch ? "its seeded initialisation" : "the shipped weights";
  console.log(
    `small, ${STEPS} steps × ${BATCH} × ${SEQ} bytes from ${from}; validation loss (nats/byte) on ${EVAL.batches}×${EVAL.batch}×${EVAL.seq} held-out bytes`,
  );
  const head = [
    "optimizer",
    "lr",
    "val before",
    "val after",
    "Δ",
    "optim (ledger)",
    "optim (estimate)",
    "ms/step",
  ];
  const body = rows.map((r) => [
    r.label,
    String(r.lr),
    r.before.toFixed(4),
    r.after.toFixed(4),
    (r.after - r.before).toFixed(4),
    formatBytes(r.optim),
    r.optim === r.estimate ? "=" : formatBytes(r.estimate),
    r.msPerStep.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(head));
  for (const b of body) console.log(line(b));
}
