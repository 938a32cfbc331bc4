/**
 * What the built-in commands share: option parsers, configuration parsing that reports every bad
 * string at once, the examples text, and printing a table in the chosen format.
 */
import { ConfigError, type Configuration, parse, parseBytes } from "@tradeoffs/model";
import { InvalidArgumentError } from "commander";
import { renderCsvTables, renderMarkdown, renderText, type Table } from "../table.js";

export const EXAMPLES = `Examples:
  $ pnpm compare                                  # the default suite, projected to llama2-70b
  $ pnpm compare Baseline Flash --seq 1024 --workload train
  $ pnpm compare Baseline "GQA[kvHeads=2]" MQA "GQA+KV[dtype=int8]"
  $ pnpm compare Baseline Paged --workload serve
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
