/**
 * Uptrain the shipped MHA `small` weights into the GQA/MQA layouts of the default suite (Ainslie et
 * al. 2023): K/V heads mean-pooled from MHA (the model's own conversion), then every weight trained
 * on the same corpus, batches and loop as `pnpm train-small` for 5% of its steps. Writes
 * `weights/small-kvheads-<k>.safetensors` + `.json` (validation loss as converted and uptrained).
 * Usage: `pnpm uptrain-heads [--steps N] [--backend JS|WASM] [--out DIR]`. Deterministic (seeded).
 * `pnpm uptrain-heads --report` prints the shipped weights' figures, as converted and uptrained.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  disposeWasm,
  getBackend,
  Rng,
  saveSafetensors,
  setBackend,
  writeFileAtomic,
} from "@tradeoffs/core-tensor";
import {
  loadSmallWeights,
  shippedWeightsFor,
  smallMeta,
  UPTRAINED_LAYOUTS,
  type UptrainMeta,
  uptrainedFileStem,
  WEIGHTS_DIR,
} from "../src/checkpoint-file.js";
import { loadCorpus } from "../src/corpus.js";
import { evaluate, parse, runQuality, Transformer, train, useFastestBackend } from "../src/index.js";

// Ainslie et al. 2023 ("GQA", arXiv:2305.13245), §2.1 and abstract: the converted checkpoint is
// pre-trained further for a proportion α of its original steps with the same recipe; α = 0.05
// ("5% of original pre-training compute"). Same batch and sequence as train-small, so 5% of its
// steps is 5% of its tokens (and at most 5% of its FLOPs: fewer K/V heads cost less).
const ALPHA = 0.05;
const SEED = 1234; // train-small's seed
const BATCH = 8;
const SEQ = 128;
// Peak LR: a third of train-small's 3e-3 (its cosine ends at 3e-4); `pnpm experiment heads` uptrains at
// the same 1e-3. Warmup: 10% of the steps, as the default schedule of `train()`.
const LR = 1e-3;

const usage =
  "usage: pnpm uptrain-heads [--steps N] [--backend JS|WASM] [--out DIR] | --report [--backend JS|WASM]";
const problems: string[] = [];
const given = new Map<string, string>();
const argv = process.argv.slice(2);
const report = argv.includes("--report");
for (let i = 0; i < argv.length; i++) {
  const flag = argv[i]!;
  const name = flag.replace(/^--/, "");
  if (flag === "--report") continue;
  if (!flag.startsWith("--") || !["steps", "backend", "out"].includes(name))
    problems.push(`unknown option '${flag}' (valid: --steps, --backend, --out, --report)`);
  else if (argv[i + 1] === undefined || argv[i + 1]!.startsWith("--")) problems.push(`${flag} needs a value`);
  else given.set(name, argv[++i]!);
}
if (report && (given.has("steps") || given.has("out")))
  problems.push("--report measures the shipped weights: it takes only --backend");
const pretrainSteps = smallMeta()?.steps;
if (pretrainSteps === undefined)
  problems.push("weights/small.json not found: run `pnpm train-small` first (uptraining starts from it)");
const stepsArg = given.get("steps");
const steps = stepsArg === undefined ? Math.round(ALPHA * (pretrainSteps ?? 0)) : Number(stepsArg);
if (!Number.isInteger(steps) || steps < 1 || steps > 100_000)
  problems.push(`--steps must be an integer from 1 to 100000, got '${stepsArg}'`);
const backend = (given.get("backend") ?? "WASM").toUpperCase();
if (!["JS", "WASM"].includes(backend))
  problems.push(`--backend must be JS or WASM, got '${given.get("backend")}'`);
const dir = given.get("out") ?? WEIGHTS_DIR;
if (!existsSync(dir) || !statSync(dir).isDirectory())
  problems.push(`--out must be an existing directory, got '${dir}'`);
if (problems.length > 0) {
  process.stderr.write(`uptrain-heads: ${problems.join("; ")} (${usage})\n`);
  process.exit(2);
}

if (backend === "WASM") {
  if (useFastestBackend() !== "WASM") process.stderr.write("WASM is not available here; training on JS\n");
} else setBackend(backend);

/** Convert, uptrain and save each layout; returns what each meta JSON holds. */
function uptrain(): UptrainMeta[] {
  const corpus = loadCorpus();
  const mha = loadSmallWeights();
  const command = ["pnpm uptrain-heads", ...argv].join(" ");
  const results: UptrainMeta[] = [];
  for (const { kvHeads, label } of UPTRAINED_LAYOUTS) {
    const model = Transformer.create("small", parse(label), { weights: mha, seed: SEED });
    try {
      const t0 = performance.now();
      const valLossMha = smallMeta()!.valLoss;
      const valLossConverted = evaluate(model, corpus.validation);
      const { losses } = train(model, corpus.train, new Rng(SEED + 1), {
        steps,
        batch: BATCH,
        seq: SEQ,
        lr: LR,
        warmup: Math.max(1, Math.round(steps / 10)),
        onStep: (step, loss, ms) => {
          if (step % 10 === 0 || step === steps - 1)
            process.stderr.write(`${label} step ${step} loss ${loss.toFixed(4)} (${ms.toFixed(0)} ms)\n`);
        },
      });
      const valLossUptrained = evaluate(model, corpus.validation);
      const meta: UptrainMeta = {
        preset: "small",
        layout: label,
        kvHeads,
        from: "small.safetensors (MHA), K/V heads mean-pooled",
        steps,
        fraction: steps / pretrainSteps!,
        seed: SEED,
        batch: BATCH,
        seq: SEQ,
        lr: LR,
        tokens: steps * BATCH * SEQ,
        backend: getBackend().name,
        seconds: Math.round((performance.now() - t0) / 1000),
        corpus: corpus.source,
        valLossMha,
        valLossConverted,
        valLossUptrained,
        finalTrainLoss: losses[losses.length - 1],
        units: "nats per byte (validation: 8 batches × 8 × 128 bytes of held-out Brown files)",
        command,
      };
      const stem = uptrainedFileStem(kvHeads);
      saveSafetensors(join(dir, `${stem}.safetensors`), model.namedTensors(), {
        format: "pt",
        preset: "small",
        layout: label,
        seed: String(SEED),
      });
      writeFileAtomic(join(dir, `${stem}.json`), `${JSON.stringify(meta, null, 2)}\n`);
      results.push(meta);
    } finally {
      model.dispose();
    }
  }
  return results;
}

const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(4)}`;

/**
 * Each shipped layout as converted and as uptrained: validation loss (the meta's 8 × 8 × 128 bytes)
 * and the quality workload against the FP32 MHA reference (its default 2 × 4 × 128 bytes).
 */
function printReport(): void {
  const validation = loadCorpus().validation;
  const rows: string[][] = [];
  for (const { label } of UPTRAINED_LAYOUTS) {
    for (const heads of ["converted", "uptrained"] as const) {
      const chosen = shippedWeightsFor("small", parse(label), { heads })!;
      const m = Transformer.create("small", parse(label), { weights: chosen.weights });
      const val = evaluate(m, validation);
      m.dispose();
      const q = runQuality(
        { model: "small", config: parse(label), weights: loadSmallWeights() },
        { headsWeights: heads },
      );
      if (rows.length === 0) {
        const mha = Transformer.create("small", parse("Baseline"), { weights: loadSmallWeights() });
        const mhaVal = evaluate(mha, validation);
        mha.dispose();
        rows.push([
          "MHA (reference)",
          shippedWeightsFor("small", parse("Baseline"))!.source,
          mhaVal.toFixed(4),
          "",
          q.referencePerplexity.toFixed(3),
          "",
          "",
        ]);
      }
      rows.push([
        label,
        q.weights,
        val.toFixed(4),
        signed(q.loss - q.referenceLoss),
        q.perplexity.toFixed(3),
        q.klDivergence.toFixed(4),
        `${(100 * q.top1Agreement).toFixed(1)}%`,
      ]);
    }
  }
  const headers = ["layout", "weights", "val loss", "quality Δloss", "perplexity", "KL", "top-1"];
  const cells = [headers, ...rows];
  const w = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  console.log("small (6 query heads): K/V heads mean-pooled from MHA, as converted and after uptraining");
  console.log(
    "(val loss: nats/byte on 8 × 8 × 128 held-out bytes; quality: vs the FP32 MHA model on 2 × 4 × 128 held-out bytes, perplexity per byte)",
  );
  cells.forEach((r, k) => {
    console.log(r.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  "));
    if (k === 0) console.log(w.map((x) => "─".repeat(x)).join("  "));
  });
}

if (report) printReport();
else console.log(JSON.stringify(uptrain(), null, 2));
disposeWasm();
