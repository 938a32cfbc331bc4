/**
 * How busy the machine was while the compare app measured: the CPU time other processes took, so a
 * reader can tell a noisy machine from a noisy workload. From the machine's per-core counters
 * (`os.cpus()`: user, nice, sys, irq) minus this process's own CPU time (`process.cpuUsage()`, every
 * thread of it, the WASM helper included), over the wall time of the probe. Node only. What it cannot
 * see: contention outside this operating system (other tenants of a virtual machine's host).
 */
import { cpus } from "node:os";

/** Other processes' share of the machine over one measured run. */
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

/** Milliseconds of CPU time all cores spent busy since boot. */
function busyMs(): number {
  let ms = 0;
  for (const c of cpus()) ms += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return ms;
}

/** Start measuring; call the result when the measured run is over. */
export function startLoadProbe(): () => MachineLoad {
  const wall0 = performance.now();
  const busy0 = busyMs();
  const own0 = process.cpuUsage();
  return () => {
    const wallMs = performance.now() - wall0;
    const own = process.cpuUsage(own0);
    const ownMs = (own.user + own.system) / 1000;
    // The machine's counters tick in 10 ms steps: clamp the rounding below zero away.
    const otherMs = Math.max(0, busyMs() - busy0 - ownMs);
    return {
      otherCores: wallMs > 0 ? otherMs / wallMs : 0,
      cores: cpus().length,
      seconds: wallMs / 1000,
    };
  };
}

/** `other processes used 0.04 of 2 cores over the 9.1 s of measuring`. */
export function loadText(l: MachineLoad): string {
  return `other processes used ${l.otherCores.toFixed(2)} of ${l.cores} cores over the ${l.seconds.toFixed(1)} s of measuring`;
}
