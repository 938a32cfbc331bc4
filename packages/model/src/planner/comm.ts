/**
 * Communication volumes and times of the collectives a layout adds, for ring algorithms over a
 * group of n devices (NCCL's bus-bandwidth model, nccl-tests' PERFORMANCE.md): all-reduce moves
 * 2(n−1)/n of the buffer per device, all-gather and reduce-scatter (n−1)/n, a pipeline send the
 * buffer once. Which link a group uses follows from its span: within a node, the intra-node link.
 */
import type { DeviceSpec } from "./hardware.js";

/** The collectives a layout runs (ring algorithms), and pipeline point-to-point sends. */
export type Collective = "all-reduce" | "all-gather" | "reduce-scatter" | "send";

/** Bytes one device sends (and receives) for a collective over a buffer of `bytes` on `n` devices. */
export function collectiveBytes(kind: Collective, bytes: number, n: number): number {
  if (n <= 1) return 0;
  switch (kind) {
    case "all-reduce":
      return (2 * (n - 1) * bytes) / n;
    case "all-gather":
    case "reduce-scatter":
      return ((n - 1) * bytes) / n;
    case "send":
      return bytes;
  }
}

/**
 * The link a group of `n` devices whose members sit `stride` devices apart uses: intra-node when
 * the group spans at most one node (n × stride ≤ gpusPerNode), else the inter-node link.
 */
export function groupBandwidth(device: DeviceSpec, n: number, stride: number): number {
  const within = n * stride <= device.gpusPerNode && device.intraNode.bandwidth > 0;
  return (within ? device.intraNode.bandwidth : device.interNode.bandwidth) * device.efficiency.network;
}

/** One line of the communication a layout adds per step (or per token), for reports. */
export interface CommItem {
  /** What the collective carries (`tp all-reduce`, `dp gradient reduce-scatter`, ...). */
  readonly what: string;
  /** The collective. */
  readonly kind: Collective;
  /** Bytes each device sends over the whole step. */
  readonly bytes: number;
  /** Time on the group's link, with the per-call latency. */
  readonly ms: number;
}

/** A collective repeated `times` times over a buffer, timed on the group's link. */
export function commItem(
  what: string,
  kind: Collective,
  buffer: number,
  times: number,
  n: number,
  bandwidth: number,
): CommItem {
  const bytes = collectiveBytes(kind, buffer, n) * times;
  return { what, kind, bytes, ms: bytes > 0 ? (bytes / bandwidth) * 1000 : 0 };
}
