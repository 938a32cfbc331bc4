// How the compare CLI's Node process starts when it measures: V8 flags and the environment, in one
// place for the package's `tradeoffs` bin (which relaunches itself with them), `pnpm compare` and the
// README's results script, so that all three measure in the same process. Not here: what is measured
// (src/).

// A measured run makes and drops many short-lived tensors: with V8's default 16 MiB semi-space many
// of them survive into the old space and are freed by full collections. A 32 MiB one cut the default
// suite's full collections 355 → 122 and its GC pauses 5.7 s → 4.7 s (`node --trace-gc`, busy
// 2-core machine); bytes, quality and projections are unchanged.
export const MEASURED_NODE_FLAGS = ["--max-semi-space-size=32"];

// glibc's malloc (Linux) asks for transparent huge pages on the large blocks it maps
// (`glibc.malloc.hugetlb=1`, glibc ≥ 2.35; older ones ignore it): tensor buffers are allocated and
// freed by the hundred MB, and on our VMs a first touch of a 4 KiB page costs ~12 µs. The cold suite
// (`--repeats 1 --warmup 0`, 5 interleaved rounds, 2026-11-29): page faults 92–100k → 64–65k, system
// time 0.92–1.05 → 0.72–0.88 s, wall 6.72–7.16 → 6.38–6.62 s, faster in 5 of 5 rounds. The user's
// own GLIBC_TUNABLES setting for it wins.
const HUGETLB = "glibc.malloc.hugetlb=1";

/** `env` with the malloc tunable added on Linux (unless it sets its own). */
export function measuredEnv(env = process.env) {
  if (process.platform !== "linux") return env;
  const tunables = env.GLIBC_TUNABLES ?? "";
  if (tunables.includes("glibc.malloc.hugetlb")) return env;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${HUGETLB}` : HUGETLB };
}

/** Set in the relaunched process's environment: it already runs with the flags and environment above. */
export const MEASURED_NODE_MARK = "TRADEOFFS_MEASURED_NODE";
