/**
 * The command line of `pnpm train-small`, checked in full before any work starts: every problem is a
 * `UsageError` the script prints as one line before exiting 2. No training, corpus or model code here.
 */
import { accessSync, constants, statSync } from "node:fs";
import { parseArgs } from "node:util";

/** What `train-small` runs with once its options are valid. */
export interface TrainSmallOptions {
  readonly steps: number;
  readonly backend: "JS" | "WASM";
  /** Directory that receives `small.safetensors` and `small.json`. */
  readonly out: string;
  readonly help: boolean;
}

/** A bad command line (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = "usage: pnpm train-small [--steps N] [--backend JS|WASM] [--out DIR]";
export const DEFAULT_STEPS = 800;
/** A ceiling that catches typos (`--steps 8000000`), not a real limit (800 steps took 604 s on WASM). */
export const MAX_STEPS = 100_000;
const BACKENDS = ["JS", "WASM"] as const;

/**
 * Parse and check `argv` (without `node script`); `defaultOut` is used when `--out` is absent.
 * Throws `UsageError` naming the bad option, the value given and what would be valid.
 */
export function parseTrainSmallArgs(argv: readonly string[], defaultOut: string): TrainSmallOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    throw new UsageError(oneLine(e as Error & { code?: string }));
  }
  const { values, positionals, tokens } = parsed;
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}'; options take the form --name value`);
  }
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== "option") continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given twice; give it once`);
    seen.add(t.name);
  }
  if (values.help) return { steps: DEFAULT_STEPS, backend: "WASM", out: defaultOut, help: true };

  let steps = DEFAULT_STEPS;
  if (values.steps !== undefined) {
    const s = values.steps.trim();
    steps = /^[0-9]+$/.test(s) ? Number(s) : Number.NaN;
    if (!(Number.isSafeInteger(steps) && steps >= 1 && steps <= MAX_STEPS)) {
      throw new UsageError(`--steps must be an integer in 1..${MAX_STEPS}, got '${values.steps}'`);
    }
  }

  const backend = BACKENDS.find((b) => b === (values.backend ?? "WASM").toUpperCase());
  if (!backend) {
    throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}, got '${values.backend}'`);
  }

  const out = values.out ?? defaultOut;
  if (out.trim() === "") throw new UsageError("--out must name a directory, got an empty string");
  let isDir: boolean;
  try {
    isDir = statSync(out).isDirectory();
  } catch {
    throw new UsageError(`--out '${out}' does not exist; create the directory first`);
  }
  if (!isDir) throw new UsageError(`--out '${out}' is a file; --out takes a directory`);
  try {
    accessSync(out, constants.W_OK);
  } catch {
    throw new UsageError(`--out '${out}' is not writable`);
  }
  return { steps, backend, out, help: false };
}

/** node:util's parseArgs errors span lines; say the same in one, naming the option. */
function oneLine(e: Error & { code?: string }): string {
  const option = /'(?:-\w, )?(-{1,2}[^' <]+)/.exec(e.message)?.[1] ?? "an option";
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    return `unknown option '${option}'; options: --steps, --backend, --out, --help`;
  }
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return /does not take/.test(e.message) ? `${option} takes no value` : `${option} needs a value`;
  }
  return e.message.replace(/\s*\n\s*/g, " ");
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      steps: { type: "string" },
      backend: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: true,
    tokens: true,
  });
}
