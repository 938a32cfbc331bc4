/**
 * Train the `small` preset on the Brown Corpus and write `weights/small.safetensors` and
 * `weights/small.json` (validation loss vs the unigram baseline). Deterministic: seeded init and
 * batches, fixed validation windows. Usage:
 * `pnpm train-small [--steps N] [--backend JS|WASM] [--out DIR]` (default: the package's weights/).
 */
import { join } from "node:path";
import {
  disposeWasm,
  getBackend,
  Rng,
  saveSafetensors,
  setBackend,
  writeFileAtomic,
} from "@tradeoffs/core-tensor";
import { loadCorpus, unigramLoss } from "../src/corpus.js";
import { parse, Transformer, useFastestBackend } from "../src/index.js";
import { evaluate, train } from "../src/training.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const steps = Number(arg("steps", "800"));
const backend = arg("backend", "WASM");
const SEED = 1234;
const BATCH = 8;
const SEQ = 128;
const LR = 3e-3;

if (backend.toUpperCase() === "WASM") {
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
const dir = arg("out", join(import.meta.dirname, "..", "weights"));
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
