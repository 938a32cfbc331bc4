/**
 * Train the `small` preset on the Brown Corpus and write `weights/small.safetensors` and
 * `weights/small.json` (validation loss vs the unigram baseline). Deterministic: seeded init and
 * batches, fixed validation windows. Usage:
 * `pnpm train-small [--steps N] [--backend JS|WASM] [--out DIR]` (default: the package's weights/).
 * Every option is checked before anything loads: a bad one prints one line and exits 2.
 */
import { join } from "node:path";
import { parseTrainSmallArgs, USAGE, UsageError } from "./train-small-options.js";

let options: ReturnType<typeof parseTrainSmallArgs>;
try {
  options = parseTrainSmallArgs(process.argv.slice(2), join(import.meta.dirname, "..", "weights"));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`train-small: ${e.message}; ${USAGE}\n`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const { steps, backend, out: dir } = options;

// Loaded only once the options are valid: the model graph takes seconds to import.
const { disposeWasm, getBackend, Rng, saveSafetensors, setBackend, writeFileAtomic } = await import(
  "@tradeoffs/core-tensor"
);
const { loadCorpus, unigramLoss } = await import("../src/corpus.js");
const { parse, Transformer, useFastestBackend } = await import("../src/index.js");
const { evaluate, train } = await import("../src/training.js");

const SEED = 1234;
const BATCH = 8;
const SEQ = 128;
const LR = 3e-3;

if (backend === "WASM") {
  if (useFastestBackend() !== "WASM") process.stderr.write("WASM is not available here; training on JS\n");
} else setBackend(backend);
const corpus = loadCorpus();
const model = Transformer.create("small", parse("Baseline"), { seed: SEED });
const rng = new Rng(SEED + 1);
const t0 = performance.now();
const before = evaluate(model, corpus.validation);
const { losses } = train(model, corpus.train, rng, {
  steps,
  batch: BATCH,
  seq: SEQ,
  lr: LR,
  warmup: 30,
  onStep: (step, loss, ms) => {
    if (step % 25 === 0 || step === steps - 1)
      process.stderr.write(`step ${step} loss ${loss.toFixed(4)} (${ms.toFixed(0)} ms)\n`);
  },
});
const seconds = (performance.now() - t0) / 1000;
const valLoss = evaluate(model, corpus.validation);
const unigram = unigramLoss(corpus.train, corpus.validation);
const meta = {
  preset: "small",
  seed: SEED,
  steps,
  batch: BATCH,
  seq: SEQ,
  lr: LR,
  tokens: steps * BATCH * SEQ,
  backend: getBackend().name,
  seconds: Math.round(seconds),
  corpus: corpus.source,
  valLossBefore: before,
  valLoss,
  unigramLoss: unigram,
  finalTrainLoss: losses[losses.length - 1],
  units: "nats per byte (validation: 8 batches × 8 × 128 bytes of held-out Brown files)",
};
saveSafetensors(join(dir, "small.safetensors"), model.namedTensors(), {
  format: "pt",
  preset: "small",
  seed: String(SEED),
});
writeFileAtomic(join(dir, "small.json"), `${JSON.stringify(meta, null, 2)}\n`);
console.log(JSON.stringify(meta, null, 2));
model.dispose();
disposeWasm();
