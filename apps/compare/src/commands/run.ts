/**
 * `run` (the default command): measure configurations on an executable preset, project them to a
 * published model, and print tables, JSON or CSV, and optionally an HTML report. Parses options and
 * prints; measuring and estimating happen in the model package.
 */
import { accessSync, constants } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  activeBackend,
  ConfigError,
  closestMatch,
  getHardware,
  getPreset,
  HARDWARE,
  resolveModel,
  setWasmFlavor,
  startLoadProbe,
  ValueError,
  WASM_FLAVORS,
  wasmFlavor,
  writeFileAtomic,
} from "@tradeoffs/model";
import { Command, Option } from "commander";
import { createProgress } from "../progress.js";
import { compareJson, scaleTable, serveTable } from "../render.js";
import { renderHtmlReport } from "../report/html.js";
import { DEFAULT_WORKLOADS, runConfigs, WORKLOADS, type WorkloadName } from "../run.js";
import { defaultBackend, defaultSuite, projectRows, reportData, scaleJson, selectBackend } from "../suite.js";
import type { Table } from "../table.js";
import { measuredTables, scaleTableNarrow, serveTableNarrow } from "../terminal.js";
import {
  EXAMPLES,
  emit,
  nonNegativeInt,
  parseBudget,
  parseConfigs,
  positiveInt,
  TRAINING_OPTIONS,
  trainingChoice,
} from "./options.js";

/**
 * A first argument that is no configuration but looks like a mistyped command (`lst`): say so, with
 * the command it is closest to. Strategy names are capitalised, so only lowercase words are checked.
 */
function mistypedCommand(first: string | undefined, commands: readonly string[]): void {
  if (first === undefined || !/^[a-z][a-z-]*$/.test(first)) return;
  const near = closestMatch(first, commands);
  if (near === undefined) return;
  throw new ValueError(
    `unknown command '${first}'; did you mean '${near}'? (commands: ${commands.join(", ")}; configurations start with a strategy name such as Baseline or Flash)`,
    { command: first, commands },
  );
}

/** Per-preset defaults: sizes that fit the model's context and keep the default run short. */
const RUN_DEFAULTS: Record<
  string,
  {
    prompt: number;
    generate: number;
    seq: number;
    steps: number;
    repeats: number;
    trainBatch?: number;
    workloads: readonly WorkloadName[];
  }
> = {
  tiny: { prompt: 32, generate: 16, seq: 32, steps: 2, repeats: 5, workloads: DEFAULT_WORKLOADS },
  small: { prompt: 64, generate: 16, seq: 64, steps: 2, repeats: 5, workloads: DEFAULT_WORKLOADS },
  // 85M parameters: decode is the regime to show; one train step of one sequence when asked.
  medium: { prompt: 128, generate: 16, seq: 128, steps: 1, repeats: 2, trainBatch: 1, workloads: ["infer"] },
};

/** The run's sizes: options given, else the preset's defaults; one clear error when they exceed its context. */
function runSizes(
  model: string,
  maxSeq: number,
  o: { prompt?: number; generate?: number; seq?: number; steps?: number; repeats?: number },
) {
  const d = RUN_DEFAULTS[model] ?? RUN_DEFAULTS.small!;
  const sizes = {
    ...d,
    prompt: o.prompt ?? d.prompt,
    generate: o.generate ?? d.generate,
    seq: o.seq ?? d.seq,
    steps: o.steps ?? d.steps,
    repeats: o.repeats ?? d.repeats,
  };
  const problems: string[] = [];
  if (sizes.prompt + sizes.generate > maxSeq)
    problems.push(
      `--prompt ${sizes.prompt} + --generate ${sizes.generate} exceeds ${model}'s context of ${maxSeq} tokens; lower --prompt or --generate`,
    );
  if (sizes.seq + 1 > maxSeq)
    problems.push(
      `--seq ${sizes.seq} needs ${sizes.seq + 1} tokens, above ${model}'s context of ${maxSeq}; lower --seq`,
    );
  if (problems.length > 0) throw new ConfigError(problems);
  return sizes;
}

/** Fail before any measuring when `file` cannot be written (an empty name, a missing or read-only folder). */
function checkWritable(file: string, option: string): void {
  if (file.trim() === "") throw new ValueError(`${option} needs a file name, got ''`);
  const dir = dirname(resolve(file));
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new ValueError(
      `${option} ${file}: cannot write to ${dir} (missing or not writable); choose another path`,
    );
  }
}

/** The `run` subcommand (the program's default). */
export function runCommand(): Command {
  return new Command("run")
    .description("measure configurations on an executable model (default: the suite on small)")
    .argument("[configs...]", 'configuration strings such as Baseline, Flash, "GQA[kvHeads=2]+KV[int8]"')
    .addOption(new Option("--model <preset>", "executable preset to measure").default("small"))
    .addOption(
      new Option("--workload <name>", "which workloads to run (default: infer, train, quality)").choices([
        ...WORKLOADS,
        "all",
      ]),
    )
    .option(
      "--batch <n>",
      "batch size (default: 1 for infer, 4 for train; 1 on medium)",
      positiveInt("--batch"),
    )
    .option(
      "--seq <n>",
      "training / quality sequence length (default: 64; tiny 32, medium 128)",
      positiveInt("--seq"),
    )
    .option(
      "--prompt <n>",
      "prompt length for infer (default: 64; tiny 32, medium 128)",
      positiveInt("--prompt"),
    )
    .option("--generate <n>", "tokens to generate for infer (default: 16)", positiveInt("--generate"))
    .option("--steps <n>", "training steps per timed run (default: 2; medium 1)", positiveInt("--steps"))
    .option(
      "--repeats <n>",
      "timed runs per configuration, interleaved across configurations after a warm-up (default: 5; medium 2)",
      positiveInt("--repeats"),
    )
    .option(
      "--warmup <n>",
      "discarded runs of each configuration before the timed ones (0: time from a cold start, as a single pass would)",
      nonNegativeInt("--warmup"),
      1,
    )
    .option("--seed <n>", "seed for initialisation and batches", positiveInt("--seed"), 1)
    .option("--budget <bytes>", "KV memory budget for serve (e.g. 2MiB)", parseBudget)
    .addOption(
      new Option(
        "--scale <preset|config.json>",
        "published model (or a Hugging Face config.json) to project each configuration to ('none' to skip)",
      ).default("llama2-70b"),
    )
    .option("--scale-seq <n>", "sequence length for the projection", positiveInt("--scale-seq"), 4096)
    .addOption(
      new Option("--hardware <name>", "device for the roofline projection")
        .choices([...Object.keys(HARDWARE), "local"])
        .default("a100-80gb"),
    )
    .addOption(
      new Option("--backend <name>", "kernel backend (JS, or WASM where available)").default(
        defaultBackend(),
      ),
    )
    .addOption(
      new Option(
        "--wasm-flavor <name>",
        "WASM kernels build: relaxed fuses multiply-adds (not bit-identical to simd); default: TRADEOFFS_WASM_FLAVOR, else simd",
      ).choices([...WASM_FLAVORS]),
    )
    .option("--html <file>", "also write a self-contained HTML report with plots")
    .addOption(
      new Option("--json", "print one JSON object instead of a table").conflicts(["csv", "markdown"]),
    )
    .addOption(
      new Option(
        "--csv",
        "print ONE CSV of raw numbers (bytes, ms, ratios; units in the header, a `table` column)",
      ).conflicts(["markdown"]),
    )
    .option("--markdown", "print the tables as GitHub Markdown (every column)")
    .option(
      "--wide",
      "every column in one table per comparison, canonical labels (default: fits 120 columns)",
    )
    .option("--quiet", "no progress output on stderr")
    .addOption(TRAINING_OPTIONS.optim())
    .addOption(TRAINING_OPTIONS.gradAccum())
    .addOption(TRAINING_OPTIONS.params())
    .addOption(TRAINING_OPTIONS.masterWeights())
    .addOption(TRAINING_OPTIONS.noMasterWeights())
    .addHelpText("after", `\n${EXAMPLES}`)
    .action((configs: string[], o, command: Command) => {
      if (/\.json$/i.test(o.model)) {
        throw new ValueError(
          `--model ${o.model}: a config.json is estimated, not run; use: compare estimate --model ${o.model}`,
        );
      }
      const preset = getPreset(o.model);
      if (!preset.executable) {
        throw new ValueError(
          `--model ${o.model} is estimate-only; measure tiny or small, or run: compare estimate --model ${o.model}`,
        );
      }
      const sizes = runSizes(preset.name, preset.arch.maxSeq, o);
      if (o.html !== undefined) checkWritable(o.html, "--html");
      if (o.wasmFlavor !== undefined) setWasmFlavor(o.wasmFlavor);
      selectBackend(o.backend);
      const texts = configs.length > 0 ? configs : defaultSuite(preset.name);
      let parsed: ReturnType<typeof parseConfigs>;
      try {
        parsed = parseConfigs(texts);
      } catch (e) {
        const commands = (command.parent?.commands ?? []).map((c) => c.name()).filter((n) => n !== "run");
        if (e instanceof ConfigError) mistypedCommand(configs[0], commands);
        throw e;
      }
      const problems = parsed.flatMap((c) =>
        c.check({ arch: preset.arch }).map((p) => `${c.label} on ${preset.name}: ${p}`),
      );
      if (problems.length > 0) throw new ConfigError(problems);
      const workloads: WorkloadName[] =
        o.workload === undefined
          ? [...sizes.workloads]
          : o.workload === "all"
            ? [...WORKLOADS]
            : [o.workload];
      const training = trainingChoice(o, workloads.includes("train"));
      const scale = o.scale === "none" ? null : resolveModel(o.scale);
      const measuring = startLoadProbe();
      const rows = runConfigs(
        parsed,
        {
          model: preset.name,
          workloads,
          batch: o.batch,
          trainBatch: sizes.trainBatch,
          seq: sizes.seq,
          prompt: sizes.prompt,
          generate: sizes.generate,
          steps: sizes.steps,
          repeats: sizes.repeats,
          warmup: o.warmup,
          seed: o.seed,
          budget: o.budget,
          training,
        },
        createProgress({ quiet: Boolean(o.quiet) }),
      );
      const load = measuring();
      const scaled = scale ? projectRows(parsed, scale.model, o.scaleSeq, getHardware(o.hardware)) : [];
      if (o.html) {
        writeFileAtomic(o.html, renderHtmlReport(reportData(rows, preset.name, scaled)));
        if (!o.quiet) process.stderr.write(`HTML report written to ${resolve(o.html)}\n`);
      }
      if (o.json) {
        const json = {
          ...compareJson(rows, preset.name),
          // What ran the measured rows: the backend's label, and on WASM the kernels' build.
          backend: activeBackend().label,
          wasmFlavor: activeBackend().name === "WASM" ? wasmFlavor() : undefined,
          // How busy the machine was while the rows were measured (other processes' CPU time).
          load,
          scale: scaled.length ? scaleJson(scaled) : undefined,
        };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        const wide = Boolean(o.wide || o.markdown || o.csv);
        const tables: Table[] = [];
        if (workloads.some((w) => w !== "serve"))
          tables.push(...measuredTables(rows, preset.name, { wide, names: texts, load, warmup: o.warmup }));
        if (workloads.includes("serve")) tables.push(wide ? serveTable(rows) : serveTableNarrow(rows, texts));
        if (scale)
          tables.push(
            wide
              ? scaleTable(scaled, scale.name, o.scaleSeq)
              : scaleTableNarrow(scaled, scale.name, o.scaleSeq, texts),
          );
        emit(tables, o);
      }
      if (rows.some((r) => r.error)) process.exitCode = 2;
    });
}
