// The READMEs' `--json` command lines, run as written (from the repository root) through the built
// CLI, each piped through JSON.parse: stdout must carry the JSON and nothing else. `pnpm compare`,
// `pnpm -s compare` and `pnpm exec tradeoffs` map to `node apps/compare/dist/cli.js` (the root script
// builds first, then runs exactly that); one line also goes through the real `pnpm exec tradeoffs` bin.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const cli = join(root, "apps/compare/dist/cli.js");
const READMES = ["README.md", "apps/compare/README.md"];
const PREFIX = /^(?:\$\s+)?pnpm (?:-s compare|compare|exec tradeoffs)(?=\s|$)/;

/** Shell words of one command line: double and single quotes, no expansions (the READMEs use none). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] ?? m[2] ?? m[3] ?? "");
  return words;
}

/** Every `--json` command line in the READMEs' code blocks and inline code, comments dropped. */
function jsonCommands(): { readme: string; line: string; args: string[] }[] {
  const out: { readme: string; line: string; args: string[] }[] = [];
  for (const readme of READMES) {
    const text = readFileSync(join(root, readme), "utf8");
    // Lines inside fenced shell blocks (```sh, ```bash, or no language), fence by fence.
    const blocks: string[] = [];
    let fence: string | null = null;
    for (const l of text.split("\n")) {
      if (l.startsWith("```")) fence = fence === null ? l.slice(3).trim() : null;
      else if (fence !== null && ["", "sh", "bash", "shell"].includes(fence)) blocks.push(l);
    }
    const inline = [...text.matchAll(/`(pnpm [^`\n]+)`/g)].map((m) => m[1] ?? "");
    for (const raw of [...blocks, ...inline]) {
      const line = raw.replace(/\s+#.*$/, "").trim();
      const m = PREFIX.exec(line);
      if (!m || line.includes("…") || line.includes("|")) continue;
      const args = shellWords(line.slice(m[0].length));
      if (args.includes("--json")) out.push({ readme, line, args });
    }
  }
  return out;
}

describe("README --json commands, as written", () => {
  const commands = jsonCommands();

  it("finds the documented JSON commands (estimate, a config.json, a measured run)", () => {
    expect(
      existsSync(cli),
      `${cli} missing: build first (pnpm turbo run build --filter=@tradeoffs/compare...)`,
    ).toBe(true);
    const lines = commands.map((c) => c.line).join("\n");
    expect(lines).toMatch(/estimate --model mixtral-8x7b --json/);
    expect(lines).toMatch(/config\.json --json/);
    expect(lines).toMatch(/exec tradeoffs .*--model tiny.*--json/);
    // a command split across two lines of prose is not found (and not run): the repeats example
    expect(lines).toMatch(/^pnpm compare Baseline Baseline Baseline --json$/m);
  });

  it.each(commands.map((c) => [c.line, c] as const))(
    "%s → one JSON object on stdout",
    (_, c) => {
      const stdout = execFileSync(process.execPath, [cli, ...c.args], {
        cwd: root,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 120_000,
      });
      const json: unknown = JSON.parse(stdout);
      expect(json, c.line).toBeTypeOf("object");
      expect(json, c.line).not.toBeNull();
      expect(Object.keys(json as object).length, c.line).toBeGreaterThan(0);
    },
    130_000,
  );

  it("`pnpm exec tradeoffs … --json` through the installed bin prints only JSON", () => {
    const stdout = execFileSync("pnpm", ["exec", "tradeoffs", "estimate", "--model", "gpt2", "--json"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    expect(JSON.parse(stdout).rows[0].estimate.params.total).toBe(124_439_808);
  }, 70_000);
});
