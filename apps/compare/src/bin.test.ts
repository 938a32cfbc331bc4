/**
 * The package's `tradeoffs` bin: it relaunches Node once with the flags and environment `pnpm compare`
 * measures with (bin/measured-node.js), keeps the caller's own Node flags and environment, and passes
 * the CLI's exit code through. Spawns real Node processes on the built CLI.
 */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../bin/tradeoffs.js", import.meta.url));
// Loaded before the bin in every Node process it runs in: one stderr line with that process's flags.
const probeSource = `process.stderr.write("PROBE " + JSON.stringify({
  argv: process.execArgv.filter((a) => !a.startsWith("data:") && a !== "--import"),
  mark: process.env.TRADEOFFS_MEASURED_NODE ?? null,
  tunables: process.env.GLIBC_TUNABLES ?? null,
}) + "\\n");`;
const probe = `data:text/javascript;base64,${Buffer.from(probeSource).toString("base64")}`;

function runBin(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ["--import", probe, bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, TRADEOFFS_MEASURED_NODE: undefined, GLIBC_TUNABLES: undefined, ...env },
  });
  const probes = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("PROBE "))
    .map((l) => JSON.parse(l.slice(6)) as { argv: string[]; mark: string | null; tunables: string | null });
  return { code: r.status, out: r.stdout, err: r.stderr, probes };
}

describe("the tradeoffs bin", () => {
  it("runs the CLI in a second Node with the measured V8 flag (the caller's flags kept) and malloc tunable", () => {
    const r = runBin(["estimate", "--model", "llama2-70b", "--config", "GQA", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rows[0].config).toBe("GQA[kvHeads=2]");
    expect(r.probes).toHaveLength(2);
    expect(r.probes[0]).toEqual({ argv: [], mark: null, tunables: null });
    expect(r.probes[1]!.argv).toEqual(["--max-semi-space-size=32"]);
    expect(r.probes[1]!.mark).toBe("1");
    expect(r.probes[1]!.tunables).toBe(process.platform === "linux" ? "glibc.malloc.hugetlb=1" : null);
  });

  it("appends to the user's GLIBC_TUNABLES and passes the CLI's exit code through", () => {
    const r = runBin(["--no-such-option"], { GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=1000000" });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--no-such-option'/);
    expect(r.probes[1]!.tunables).toBe(
      process.platform === "linux"
        ? "glibc.malloc.mmap_threshold=1000000:glibc.malloc.hugetlb=1"
        : "glibc.malloc.mmap_threshold=1000000",
    );
  });

  it("stops quietly with exit 0 when its reader closes the pipe (`tradeoffs list | head -1`)", async () => {
    const child = spawn(process.execPath, [bin, "list"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => {
      err += String(d);
    });
    child.stdout.destroy(); // the reader is gone before the first write, so that write fails
    const code = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
    expect(err).toBe("");
    expect(code).toBe(0);
  });

  it("runs in place when it is already the relaunched process", () => {
    const r = runBin(["estimate", "--model", "llama2-70b", "--json"], { TRADEOFFS_MEASURED_NODE: "1" });
    expect(r.code).toBe(0);
    expect(r.probes).toHaveLength(1);
  });
});
