#!/usr/bin/env node
/**
 * The compare CLI. `tradeoffs-compare [configs…]` measures configurations on the small model and
 * projects them to a published one; `estimate` prints the estimator's figures for any preset;
 * `claims` checks rules of thumb; `list` shows every strategy. Exit codes: 0 ok, 2 bad input, 1 failure.
 */
import {
  ConfigError,
  type Configuration,
  checkClaims,
  disposeWasm,
  entryName,
  estimate,
  getHardware,
  getPreset,
  ggufModelInfo,
  HARDWARE,
  loadHfConfig,
  PRESET_NAMES,
  type PresetName,
  parse,
  parseBytes,
  registry,
  TradeoffsError,
  ValueError,
  type WorkloadSpec,
  writeFileAtomic,
} from "@tradeoffs/model";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { exportCommand } from "./commands/export.js";
import { ggufFileNote } from "./commands/gguf-file.js";
import { planCommand } from "./commands/plan.js";
import { createProgress } from "./progress.js";
import { compareJson, compareTable, estimateJson, estimateTable, scaleTable, serveTable } from "./render.js";
import { renderHtmlReport } from "./report/html.js";
import { DEFAULT_WORKLOADS, runConfigs, WORKLOADS, type WorkloadName } from "./run.js";
import { defaultBackend, defaultSuite, projectRows, reportData, scaleJson, selectBackend } from "./suite.js";
import { renderCsv, renderMarkdown, renderText, type Table } from "./table.js";

const EXAMPLES = `Examples:
  $ pnpm compare                                  # the default suite, projected to llama2-70b
  $ pnpm compare Baseline Flash --seq 1024 --workload train
  $ pnpm compare Baseline "GQA[kvHeads=2]" MQA "GQA+KV[dtype=int8]"
  $ pnpm compare Baseline Paged --workload serve
  $ pnpm compare --html report.html
  $ pnpm compare estimate --model llama2-70b --config Baseline GQA NF4 --seq 4096
  $ pnpm compare estimate --model path/to/config.json --json
  $ pnpm compare claims
  $ pnpm compare list`;

function parseBudget(v: string): number {
  const n = parseBytes(v);
  if (!(Number.isFinite(n) && n > 0))
    throw new InvalidArgumentError("must be a byte size such as 2097152, 512KiB or 2MiB");
  return n;
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

function parseConfigs(texts: readonly string[]): Configuration[] {
  const problems: string[] = [];
  const out: Configuration[] = [];
  for (const t of texts) {
    try {
      out.push(parse(t));
    } catch (e) {
      if (e instanceof ConfigError)
        problems.push(...e.problems.map((p) => (texts.length > 1 ? `${t}: ${p}` : p)));
      else throw e;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

function emit(table: Table, format: { markdown?: boolean; csv?: boolean }): void {
  process.stdout.write(
    `${format.markdown ? renderMarkdown(table) : format.csv ? renderCsv(table) : renderText(table)}\n`,
  );
}

export function buildProgram(): Command {
  const program = new Command("tradeoffs-compare")
    .description(
      "Compare LLM space-time strategies: measured on a model that runs here, estimated for published models",
    )
    .showSuggestionAfterError(true)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      "after",
      `\n${EXAMPLES}\n\nRun \`tradeoffs-compare run --help\` for the measurement options.`,
    )
    .exitOverride();

  program
    .command("run", { isDefault: true })
    .description("measure configurations on an executable model (default: the suite on small)")
    .argument("[configs...]", 'configuration strings such as Baseline, Flash, "GQA[kvHeads=2]+KV[int8]"')
    .addOption(new Option("--model <preset>", "executable preset to measure").default("small"))
    .addOption(
      new Option("--workload <name>", "which workloads to run (default: infer, train, quality)").choices([
        ...WORKLOADS,
        "all",
      ]),
    )
    .option("--batch <n>", "batch size (default: 1 for infer, 4 for train)", positiveInt("--batch"))
    .option("--seq <n>", "training / quality sequence length", positiveInt("--seq"), 64)
    .option("--prompt <n>", "prompt length for infer", positiveInt("--prompt"), 64)
    .option("--generate <n>", "tokens to generate for infer", positiveInt("--generate"), 16)
    .option("--steps <n>", "training steps to time", positiveInt("--steps"), 2)
    .option("--seed <n>", "seed for initialisation and batches", positiveInt("--seed"), 1)
    .option("--budget <bytes>", "KV memory budget for serve (e.g. 2MiB)", parseBudget)
    .addOption(
      new Option(
        "--scale <preset>",
        "published model to project each configuration to ('none' to skip)",
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
    .option("--html <file>", "also write a self-contained HTML report with plots")
    .option("--json", "print one JSON object instead of a table")
    .option("--csv", "print the table as CSV")
    .option("--markdown", "print the table as GitHub Markdown")
    .option("--quiet", "no progress output on stderr")
    .addHelpText(
      "after",
      `
${EXAMPLES}`,
    )
    .action((configs: string[], o) => {
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
      selectBackend(o.backend);
      const parsed = parseConfigs(configs.length > 0 ? configs : defaultSuite());
      const problems = parsed.flatMap((c) =>
        c.check({ arch: preset.arch }).map((p) => `${c.label} on ${preset.name}: ${p}`),
      );
      if (problems.length > 0) throw new ConfigError(problems);
      const workloads: WorkloadName[] =
        o.workload === undefined
          ? [...DEFAULT_WORKLOADS]
          : o.workload === "all"
            ? [...WORKLOADS]
            : [o.workload];
      const scale = o.scale === "none" ? null : getPreset(o.scale);
      const rows = runConfigs(
        parsed,
        {
          model: preset.name,
          workloads,
          batch: o.batch,
          seq: o.seq,
          prompt: o.prompt,
          generate: o.generate,
          steps: o.steps,
          seed: o.seed,
          budget: o.budget,
        },
        createProgress({ quiet: Boolean(o.quiet) }),
      );
      const scaled = scale ? projectRows(parsed, scale.name, o.scaleSeq, getHardware(o.hardware)) : [];
      if (o.html) writeFileAtomic(o.html, renderHtmlReport(reportData(rows, preset.name, scaled)));
      if (o.json) {
        const json = {
          ...compareJson(rows, preset.name),
          scale: scaled.length ? scaleJson(scaled) : undefined,
        };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        const tables: Table[] = [];
        if (workloads.some((w) => w !== "serve")) tables.push(compareTable(rows, preset.name));
        if (workloads.includes("serve")) tables.push(serveTable(rows));
        if (scale) tables.push(scaleTable(scaled, scale.name, o.scaleSeq));
        tables.forEach((t, i) => {
          if (i > 0) process.stdout.write("\n");
          emit(t, o);
        });
      }
      if (rows.some((r) => r.error)) process.exitCode = 2;
    });

  program
    .command("estimate")
    .description("print the estimator's figures for a preset without running anything")
    .requiredOption(
      "--model <preset|config.json|file.gguf>",
      `a preset (${PRESET_NAMES.join(", ")}), a Hugging Face config.json or a llama GGUF (header only)`,
    )
    .option("--config <string...>", "configuration string(s)", ["Baseline"])
    .option("--seq <n>", "prompt (infer) or sequence (train) length", positiveInt("--seq"), 2048)
    .option("--generate <n>", "tokens generated after the prompt (infer)", (v) => Number(v), 0)
    .option("--batch <n>", "batch size", positiveInt("--batch"), 1)
    .addOption(
      new Option("--kv-dtype <dtype>", "KV cache element type before strategies").choices(["fp16", "fp32"]),
    )
    .addOption(new Option("--workload <name>", "workload").choices(["infer", "train"]).default("infer"))
    .option("--json", "print one JSON object (rows[i].config, rows[i].estimate.params.total, ...)")
    .option("--csv", "print the table as CSV")
    .option("--markdown", "print the table as GitHub Markdown")
    .action((o) => {
      const gguf = /\.gguf$/i.test(o.model) ? ggufModelInfo(o.model) : null;
      const fromFile = gguf !== null || /\.json$/i.test(o.model);
      const arch = gguf?.arch ?? (fromFile ? loadHfConfig(o.model) : getPreset(o.model).arch);
      const workload: WorkloadSpec = { kind: o.workload, batch: o.batch, seq: o.seq, generate: o.generate };
      const configs = parseConfigs(o.config);
      const estimates = configs.map((c) => {
        const problems = c.check({ arch });
        if (problems.length > 0)
          throw new ConfigError(problems.map((p) => `${c.label} on ${arch.name}: ${p}`));
        const model = fromFile ? arch : (getPreset(o.model).name as PresetName);
        return estimate(model, c, workload, o.kvDtype ? { kvDtype: o.kvDtype } : {});
      });
      const file = gguf ? { file: gguf } : {};
      if (o.json)
        process.stdout.write(`${JSON.stringify({ ...estimateJson(estimates), ...file }, null, 2)}\n`);
      else emit(estimateTable(estimates), o);
      if (gguf && !o.json) process.stdout.write(`\n${ggufFileNote(o.model, gguf)}\n`);
    });

  program
    .command("claims")
    .description("check popular rules of thumb against this project's estimator and measurements")
    .option("--no-measure", "skip the claims that need a measurement on this machine")
    .option("--json", "print one JSON object")
    .option("--markdown", "print the table as GitHub Markdown")
    .option("--csv", "print the table as CSV")
    .action((o) => {
      const results = checkClaims({ measure: o.measure !== false });
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ claims: results }, null, 2)}\n`);
        return;
      }
      emit(
        {
          title: "Claims check: claim → verdict → the number we get → how it was computed",
          headers: ["#", "claim", "verdict", "what we get", "how"],
          rows: results.map((r) => [String(r.id), r.claim, r.verdict, r.value, r.how]),
          align: ["right", "left", "left", "left", "left"],
        },
        o,
      );
    });

  program
    .command("list")
    .description("list the strategies and presets")
    .action(() => {
      const rows = Object.values(registry).map((e) => {
        const name = entryName(e);
        if (typeof e === "function") {
          const d = e.definition;
          const opts = Object.entries(d.options)
            .map(([k, s]) => `${k}=${String(s.default === Number.POSITIVE_INFINITY ? "inf" : s.default)}`)
            .join(",");
          return [name, d.slot, opts, d.description];
        }
        return [name, "(composition)", "", e.description];
      });
      emit(
        {
          title: "Strategies",
          headers: ["name", "slot", "options (defaults)", "description"],
          rows,
          align: ["left", "left", "left", "left"],
        },
        {},
      );
      const presetRows = PRESET_NAMES.map((n) => {
        const p = getPreset(n);
        return [n, p.executable ? "measured" : "estimate", p.description];
      });
      process.stdout.write("\n");
      emit(
        {
          title: "Presets",
          headers: ["name", "kind", "description"],
          rows: presetRows,
          align: ["left", "left", "left"],
        },
        {},
      );
    });
  program.addCommand(planCommand().copyInheritedSettings(program));
  program.addCommand(exportCommand().copyInheritedSettings(program));
  return program;
}

/** Parse argv and run; returns the exit code (0 ok, 2 bad input, 1 failure). */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await runCli(argv);
  } finally {
    disposeWasm(); // stop the kernel worker so the process can exit
  }
}

async function runCli(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      )
        return 0;
      return 2; // commander already printed the one-line error
    }
    if (e instanceof ConfigError || e instanceof ValueError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof TradeoffsError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(
      `error: ${e instanceof Error ? (process.env.DEBUG ? e.stack : e.message) : String(e)}\n`,
    );
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/cli.js")) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
