/**
 * Roofline time projection: a phase takes max(FLOPs / peak FLOP/s, bytes / bandwidth) on a device,
 * and is compute- or memory-bound accordingly; "fits on N devices" divides the estimate's bytes by
 * the device memory. Device figures are vendor datasheet peaks (dense, no sparsity); `local` is
 * calibrated by measuring this machine's matmul and memory bandwidth.
 */
import { closestMatch, getBackend, matmulArgs, ValueError } from "@tradeoffs/core-tensor";
import type { Estimate } from "./estimator.js";

/** A device for the roofline projection: peak FLOP/s, memory bandwidth and memory size. */
export interface Hardware {
  /** The name `getHardware` takes (`a100-80gb`, `h100-80gb`, `local`). */
  readonly name: string;
  /** Peak dense FLOP/s at the precision the estimate assumes (bf16/fp16 tensor cores for GPUs). */
  readonly flops: number;
  /** Memory bandwidth, bytes/s. */
  readonly bandwidth: number;
  /** Device memory, bytes. */
  readonly memory: number;
  /** Where the figures come from (a datasheet, or how they were measured here). */
  readonly source: string;
}

/** The built-in devices, by name, with datasheet peaks (dense, no sparsity). */
export const HARDWARE: Readonly<Record<string, Hardware>> = {
  // NVIDIA A100 datasheet (SXM4 80GB): 312 TFLOPS BF16 dense, 2,039 GB/s HBM2e.
  "a100-80gb": {
    name: "a100-80gb",
    flops: 312e12,
    bandwidth: 2.039e12,
    memory: 80e9,
    source: "NVIDIA A100 datasheet",
  },
  // NVIDIA H100 SXM5 80GB: 989 TFLOPS BF16 dense, 3.35 TB/s HBM3.
  "h100-80gb": {
    name: "h100-80gb",
    flops: 989e12,
    bandwidth: 3.35e12,
    memory: 80e9,
    source: "NVIDIA H100 datasheet",
  },
};

/** Measure this machine: f32 matmul FLOP/s on the current backend and streaming read bandwidth. */
export function calibrateLocal(memoryBytes = 24 * 2 ** 30): Hardware {
  const n = 256;
  const a = new Float32Array(n * n).fill(0.5);
  const b = new Float32Array(n * n).fill(0.25);
  const c = new Float32Array(n * n);
  const args = matmulArgs(n, n, n, a, b, c);
  const backend = getBackend();
  backend.matmul(args);
  let reps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 150) {
    backend.matmul(args);
    reps++;
  }
  const flops = (2 * n * n * n * reps) / ((performance.now() - t0) / 1000);
  const big = new Float32Array(16 * 2 ** 20); // 64 MiB of scratch, outside any model
  big.fill(1);
  let sum = 0;
  let passes = 0;
  const t1 = performance.now();
  while (performance.now() - t1 < 150) {
    for (let i = 0; i < big.length; i += 4) sum += big[i]! + big[i + 1]! + big[i + 2]! + big[i + 3]!;
    passes++;
  }
  const bandwidth = (big.byteLength * passes) / ((performance.now() - t1) / 1000);
  if (sum < 0) throw new Error("unreachable");
  return {
    name: "local",
    flops,
    bandwidth,
    memory: memoryBytes,
    source: `measured here (${backend.name} matmul 256³, f32 streaming read)`,
  };
}

/**
 * A built-in device by name, or `local` (measured on this machine now). Unknown names throw a `ValueError`
 * naming the closest one and the choices.
 */
export function getHardware(name: string): Hardware {
  if (name === "local") return calibrateLocal();
  const hw = HARDWARE[name];
  if (!hw) {
    const known = [...Object.keys(HARDWARE), "local"];
    const near = closestMatch(name, known);
    throw new ValueError(
      `unknown hardware '${name}'${near ? ` (did you mean '${near}'?)` : ""}; choose ${known.join(", ")}`,
    );
  }
  return hw;
}

/** The roofline time of one phase: max(FLOPs / peak, bytes / bandwidth) and which bound it hit. */
export interface PhaseTime {
  /** Projected time, s. */
  readonly seconds: number;
  /** Whether compute or memory bandwidth limits the phase. */
  readonly bound: "compute" | "memory";
  /** Floating-point operations of the phase. */
  readonly flops: number;
  /** Bytes read from memory in the phase. */
  readonly bytes: number;
}

/** An estimate projected onto a device: the time of each phase and how many devices its bytes need. */
export interface Projection {
  /** The device projected onto. */
  readonly hardware: Hardware;
  /** The whole prefill. */
  readonly prefill: PhaseTime;
  /** One decode step (one token for each sequence in the batch). */
  readonly decode: PhaseTime;
  /** One training step. */
  readonly trainStep: PhaseTime;
  /** Devices needed to hold the estimate's bytes (weights + kv + … as the workload needs). */
  readonly devices: number;
}

function phase(flops: number, bytes: number, hw: Hardware): PhaseTime {
  const c = flops / hw.flops;
  const m = bytes / hw.bandwidth;
  return { seconds: Math.max(c, m), bound: c >= m ? "compute" : "memory", flops, bytes };
}

/**
 * Projects an estimate onto a device with the roofline model (no overlap or efficiency factors: a lower
 * bound on time).
 */
export function project(e: Estimate, hw: Hardware): Projection {
  return {
    hardware: hw,
    prefill: phase(e.flops.prefill, e.bytesMoved.prefill, hw),
    decode: phase(e.flops.decodePerToken, e.bytesMoved.decodePerToken, hw),
    trainStep: phase(e.flops.trainStep, e.bytesMoved.trainStep, hw),
    devices: Math.max(1, Math.ceil(e.totalBytes / hw.memory)),
  };
}
