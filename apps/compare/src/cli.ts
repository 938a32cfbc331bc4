#!/usr/bin/env node
/**
 * The compare CLI (bin `tradeoffs`). `tradeoffs [configs…]` measures
 * configurations and projects them to a published model; the other commands live in commands/, one
 * file each, registered below. Exit codes: 0 ok, 2 bad input, 1 failure.
 */
import { readFileSync } from "node:fs";
import { ConfigError, disposeWasm, FormatError, TradeoffsError, ValueError } from "@tradeoffs/model";
import { Command, CommanderError } from "commander";
import { claimsCommand } from "./commands/claims.js";
import { estimateCommand } from "./commands/estimate.js";
import { exportCommand } from "./commands/export.js";
import { listCommand } from "./commands/list.js";
import { EXAMPLES } from "./commands/options.js";
import { planCommand } from "./commands/plan.js";
import { runCommand } from "./commands/run.js";

/** The default command's arguments and options, for the top-level help. */
function defaultCommandHelp(program: Command): string {
  const run = program.commands.find((c) => c.name() === "run");
  if (!run) return "";
  const text = run.helpInformation();
  const at = text.search(/^Arguments:|^Options:/m);
  return `\nThe default command, run (\`${program.name()} [configs...] [options]\`), takes:\n\n${at >= 0 ? text.slice(at) : text}`;
}

/**
 * This package's version, from its package.json: one directory up from src/cli.ts, dist/cli.js and
 * the bundle alike.
 */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  return String(manifest.version);
}

export function buildProgram(): Command {
  const program = new Command("tradeoffs")
    .description(
      "Compare LLM space-time strategies: measured on a model that runs here, estimated for published models",
    )
    .version(packageVersion(), "-V, --version", "print the version of @tradeoffs/compare")
    .showSuggestionAfterError(true)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride();
  // One line per subcommand (each in commands/<name>.ts); settings are copied from the program.
  program.addCommand(runCommand().copyInheritedSettings(program), { isDefault: true });
  program.addCommand(estimateCommand().copyInheritedSettings(program));
  program.addCommand(claimsCommand().copyInheritedSettings(program));
  program.addCommand(listCommand().copyInheritedSettings(program));
  program.addCommand(planCommand().copyInheritedSettings(program));
  program.addCommand(exportCommand().copyInheritedSettings(program));
  program.addHelpText("after", () => `${defaultCommandHelp(program)}\n${EXAMPLES}\n`);
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
    // Bad input: a configuration, a value, or a file that is not what it claims (malformed JSON).
    if (e instanceof ConfigError || e instanceof ValueError || e instanceof FormatError) {
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

/**
 * When the reader of stdout goes away (`tradeoffs list | head -3`), stop quietly with exit 0, as Unix
 * tools do, instead of crashing on EPIPE with a stack trace. For processes that run the CLI as their
 * program (the bin, or this file run directly), not for callers of `main`.
 */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
}

if (import.meta.url === `file://${process.argv[1]}` || /\/cli(\.bundle)?\.js$/.test(process.argv[1] ?? "")) {
  exitQuietlyOnClosedStdout();
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
