// One silent turbo build for the root scripts that run something built (`pnpm compare`, `pnpm web`):
// quiet unless it fails, then its log and one line go to stderr and the process exits 1, so stdout
// carries only what the script runs. Not a build definition (turbo.json) — only how scripts call it.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

/** Build `filter` (a turbo filter such as `@tradeoffs/compare...`); `what` names the script in errors. */
export function silentBuild(filter, what, consequence) {
  const build = spawnSync(
    "pnpm",
    ["exec", "turbo", "run", "build", "--output-logs=errors-only", `--filter=${filter}`],
    {
      cwd: join(import.meta.dirname, "..", ".."),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { TURBO_TELEMETRY_DISABLED: "1", ...process.env },
    },
  );
  if (build.status === 0) return;
  process.stderr.write(`${build.stdout ?? ""}${build.stderr ?? ""}`);
  process.stderr.write(`${what}: the build failed (exit ${build.status ?? build.signal}); ${consequence}\n`);
  process.exit(1);
}
