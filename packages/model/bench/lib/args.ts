/**
 * The command line of a bench in this directory (a helper, so it lives below bench/, where
 * `pnpm bench` does not look for benches): `options` parsed from process.argv by `parseArgs` in strict
 * mode, no positionals. An unknown option, or any value the bench then passes to `fail`, is one line
 * on stderr (`bench <name>: …`, then the usage line) and exit code 2.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

type Strict<O> = { args: string[]; strict: true; allowPositionals: false; options: O };

export function benchArgs<const O extends NonNullable<ParseArgsConfig["options"]>>(
  name: string,
  usage: string,
  options: O,
): { values: ReturnType<typeof parseArgs<Strict<O>>>["values"]; fail: (message: string) => never } {
  const fail = (message: string): never => {
    console.error(`bench ${name}: ${message}\n${usage}`);
    process.exit(2);
  };
  try {
    const config: Strict<O> = { args: process.argv.slice(2), strict: true, allowPositionals: false, options };
    return { values: parseArgs(config).values, fail };
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}
