/**
 * `pnpm train-small` checks its whole command line before any work: the parser on every kind of bad
 * option, and the script itself spawned with bad options (exit 2, one line, nothing written, no
 * training). Never writes to packages/model/weights: every valid `--out` here is a temp directory.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_STEPS, MAX_STEPS, parseTrainSmallArgs, UsageError } from "../scripts/train-small-options.js";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const weights = join(pkg, "weights");
const dir = mkdtempSync(join(tmpdir(), "train-small-test-"));
const file = join(dir, "a-file");
writeFileSync(file, "x");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("train-small options", () => {
  it("accepts valid options and fills defaults", () => {
    expect(parseTrainSmallArgs([], dir)).toEqual({
      steps: DEFAULT_STEPS,
      backend: "WASM",
      out: dir,
      help: false,
    });
    expect(parseTrainSmallArgs(["--steps", "5", "--backend", "js", `--out=${dir}`], "/nowhere")).toEqual({
      steps: 5,
      backend: "JS",
      out: dir,
      help: false,
    });
    expect(parseTrainSmallArgs(["--help", "--steps", "abc"], dir).help).toBe(true);
  });

  it("refuses every bad option with a UsageError naming it", () => {
    const cases: [string[], RegExp][] = [
      [["--steps", "abc"], /--steps must be an integer in 1\.\.100000, got 'abc'/],
      [["--steps", "0"], /got '0'/],
      [["--steps", "-3"], /--steps needs a value|got '-3'/],
      [["--steps=-3"], /got '-3'/],
      [["--steps", "2.5"], /got '2.5'/],
      [["--steps", "1e3"], /got '1e3'/],
      [["--steps", String(MAX_STEPS + 1)], /got '100001'/],
      [["--steps="], /got ''/],
      [["--steps", "5", "--steps", "6"], /--steps is given twice/],
      [["--backend", "GPU"], /--backend must be one of JS, WASM, got 'GPU'/],
      [["--out"], /--out needs a value/],
      [["--out", "--steps", "3"], /--out needs a value/],
      [["--out", ""], /--out must name a directory, got an empty string/],
      [["--out", join(dir, "missing")], /does not exist; create the directory first/],
      [["--out", file], /is a file; --out takes a directory/],
      [["--bogus"], /unknown option '--bogus'; options: --steps, --backend, --out, --help/],
      [["--help=1"], /--help takes no value/],
      [["extra"], /unexpected argument 'extra'/],
    ];
    for (const [argv, msg] of cases) {
      let err: unknown;
      try {
        parseTrainSmallArgs(argv, dir);
      } catch (e) {
        err = e;
      }
      expect(err, argv.join(" ")).toBeInstanceOf(UsageError);
      expect((err as Error).message, argv.join(" ")).toMatch(msg);
      expect((err as Error).message, argv.join(" ")).not.toMatch(/\n/);
    }
  });

  it("the script exits 2 at once on bad options, writing nothing and training nothing", async () => {
    const before = statSync(join(weights, "small.safetensors"));
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
        const t0 = performance.now();
        execFile(
          process.execPath,
          [
            "--conditions=@tradeoffs/source",
            "--import",
            "tsx",
            join(pkg, "scripts", "train-small.ts"),
            ...args,
          ],
          { cwd: pkg, timeout: 60_000 },
          (error, stdout, stderr) =>
            resolve({
              code: error ? (typeof error.code === "number" ? error.code : null) : 0,
              stdout,
              stderr,
              ms: performance.now() - t0,
            }),
        );
      });
    const cases: [string[], RegExp][] = [
      [["--steps", "abc", "--out", dir], /--steps must be an integer/],
      [["--out"], /--out needs a value/],
      [["--out", file], /is a file/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    for (const [i, r] of results.entries()) {
      const [args, msg] = cases[i]!;
      const what = args.join(" ");
      expect(r.code, `${what}: ${r.stderr}`).toBe(2);
      expect(r.stdout, what).toBe("");
      expect(r.stderr.trimEnd().split("\n"), what).toHaveLength(1);
      expect(r.stderr, what).toMatch(msg);
      expect(r.stderr, what).toMatch(/^train-small: .*; usage: pnpm train-small/);
      // Under a second of CPU (the model is imported only after the options pass); the bound
      // is loose for a loaded 2-core CI machine. A default run trains for ~10 minutes.
      expect(r.ms, what).toBeLessThan(20_000);
    }
    expect(readdirSync(dir)).toEqual(["a-file"]);
    const after = statSync(join(weights, "small.safetensors"));
    expect([after.mtimeMs, after.size]).toEqual([before.mtimeMs, before.size]);
  });
});
