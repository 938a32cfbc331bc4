/**
 * How busy the machine was while something was measured: the CPU time other processes took, so a
 * reader can tell a noisy machine from a noisy workload. The machine's per-core busy time minus this
 * process's own (every thread of it, WASM helpers included), over the probe's wall time, from the
 * platform seam's counters (`#host`; Node: `os.cpus()`, `process.cpuUsage()`). What it cannot see:
 * contention outside this operating system (other tenants of a virtual machine's host). Browsers
 * have no counters: the probe reports nothing there.
 */
import { host } from "#host";

/** Other processes' share of the machine over one measured stretch. */
export interface MachineLoad {
  /** Cores' worth of CPU time other processes took on average (0: nothing else ran). */
  readonly otherCores: number;
  /** Logical cores the machine has. */
  readonly cores: number;
  /** Wall seconds the probe covered. */
  readonly seconds: number;
}

/**
 * Other processes' average use from this share of a core up counts as a busy machine: on the 2-core
 * machines the project measures on, a quarter of a core taken from the helper thread or the main
 * thread shows in the spread of short timed sections.
 */
export const BUSY_CORES = 0.25;

/**
 * Start measuring; call the result when the measured stretch is over. It returns undefined where the
 * platform has no CPU counters (browsers).
 */
export function startLoadProbe(): () => MachineLoad | undefined {
  const wall0 = performance.now();
  const t0 = host.cpuTimes();
  return () => {
    const t1 = host.cpuTimes();
    if (t0 === undefined || t1 === undefined) return undefined;
    const wallMs = performance.now() - wall0;
    // The machine's counters tick in 10 ms steps: clamp the rounding below zero away.
    const otherMs = Math.max(0, t1.busyMs - t0.busyMs - (t1.ownMs - t0.ownMs));
    return { otherCores: wallMs > 0 ? otherMs / wallMs : 0, cores: t1.cores, seconds: wallMs / 1000 };
  };
}

/** `other processes used 0.04 of 2 cores over the 9.1 s of measuring`. */
export function loadText(l: MachineLoad): string {
  return `other processes used ${l.otherCores.toFixed(2)} of ${l.cores} cores over the ${l.seconds.toFixed(1)} s of measuring`;
}
