/**
 * What the built-in commands share: option parsers, configuration parsing that reports every bad
 * string at once, the examples text, and printing a table in the chosen format.
 */
import {
  ConfigError,
  type Configuration,
  OPTIMIZER_NAMES,
  type OptimizerName,
  PARAM_DTYPES,
  type ParamDtype,
  parse,
  parseBytes,
  type TrainingChoice,
} from "@tradeoffs/model";
import { InvalidArgumentError, Option } from "commander";
import { renderCsvTables, renderMarkdown, renderText, type Table } from "../table.js";

export const EXAMPLES = `Examples:
  $ pnpm compare                                  # the default suite, projected to llama2-70b
  $ pnpm compare Baseline Flash --seq 1024 --workload train
  $ pnpm compare Baseline "GQA[kvHeads=2]" MQA "GQA+KV[dtype=int8]"
  $ pnpm compare Baseline Paged --workload serve
  $ pnpm compare Baseline --workload train --optim adamw8bit --grad-accum 2
  $ pnpm compare --html report.html
  $ pnpm compare estimate --model llama2-70b --config Baseline GQA NF4 --seq 4096
  $ pnpm compare estimate --model apps/compare/test/fixtures/mixtral-config.json
  $ pnpm compare claims
  $ pnpm compare list

Machine-readable output (stdout carries only the output):
  $ pnpm -s compare estimate --model llama2-70b --json
  $ pnpm exec tradeoffs Baseline --model tiny --json --quiet`;

export function parseBudget(v: string): number {
  const n = parseBytes(v);
  if (!(Number.isFinite(n) && n > 0))
    throw new InvalidArgumentError("must be a byte size such as 2097152, 512KiB or 2MiB");
  return n;
}

export const nonNegativeInt = (name: string) => (v: string) => {
  const n = v.trim() === "" ? Number.NaN : Number(v);
  if (!(Number.isSafeInteger(n) && n >= 0))
    throw new InvalidArgumentError(`${name} must be a non-negative integer, got '${v}'`);
  return n;
};

export const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

/** The training-choice options `run` and `estimate` share (`--optim`, `--grad-accum`, bf16 parameters). */
export const TRAINING_OPTIONS = {
  optim: () =>
    new Option("--optim <name>", "optimizer for training (default: adamw)").choices([...OPTIMIZER_NAMES]),
  gradAccum: () =>
    new Option(
      "--grad-accum <n>",
      "micro-batches per optimizer step, gradients accumulated (must divide --batch; default 1)",
    ).argParser(positiveInt("--grad-accum")),
  params: () =>
    new Option(
      "--params <dtype>",
      "trainable parameters as f32, or as bf16 values (default: fp32; published models bf16)",
    ).choices([...PARAM_DTYPES]),
  masterWeights: () =>
    new Option(
      "--master-weights",
      "keep an f32 master copy of bf16 parameters in optim (implies --params bf16)",
    ),
  noMasterWeights: () =>
    new Option("--no-master-weights", "no f32 master copy (published models keep one by default)"),
} as const;

/**
 * The training choice from `addTrainingOptions` flags; undefined when none was given. One
 * ConfigError naming every contradiction (a master copy of f32 parameters, flags with no training).
 */
export function trainingChoice(
  o: { optim?: string; gradAccum?: number; params?: string; masterWeights?: boolean },
  trains: boolean,
): TrainingChoice | undefined {
  const given = ["optim", "gradAccum", "params", "masterWeights"].filter(
    (k) => o[k as keyof typeof o] !== undefined,
  );
  if (given.length === 0) return undefined;
  const problems: string[] = [];
  if (!trains)
    problems.push(
      `--optim, --grad-accum, --params and --master-weights size a training step; add --workload train`,
    );
  if (o.masterWeights === true && o.params === "fp32")
    problems.push(
      "--master-weights keeps an f32 copy of bf16 parameters; use --params bf16 (or drop --params fp32)",
    );
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...(o.optim !== undefined ? { optimizer: { name: o.optim as OptimizerName } } : {}),
    ...(o.gradAccum !== undefined ? { gradAccum: o.gradAccum } : {}),
    ...(o.params !== undefined || o.masterWeights === true
      ? { params: (o.params ?? "bf16") as ParamDtype }
      : {}),
    ...(o.masterWeights !== undefined ? { masterWeights: o.masterWeights } : {}),
  };
}

/** Parses every string; a `ConfigError` lists the problems of all of them. */
export function parseConfigs(texts: readonly string[]): Configuration[] {
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

export interface OutputFormat {
  readonly markdown?: boolean;
  readonly csv?: boolean;
}

/**
 * Prints tables to stdout: text or Markdown one after another (a blank line between), or CSV as ONE
 * table of raw values with a `table` column.
 */
export function emit(tables: Table | readonly Table[], format: OutputFormat): void {
  const list = Array.isArray(tables) ? (tables as readonly Table[]) : [tables as Table];
  if (format.csv) {
    process.stdout.write(`${renderCsvTables(list)}\n`);
    return;
  }
  const render = format.markdown ? renderMarkdown : renderText;
  process.stdout.write(`${list.map(render).join("\n\n")}\n`);
}
