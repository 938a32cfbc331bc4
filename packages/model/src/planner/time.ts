/**
 * Time per device from a roofline, max(FLOPs / (peak × compute efficiency), bytes / (bandwidth ×
 * memory efficiency)), plus the communication the layout adds (comm.ts). Prefill and decode run the
 * pipeline stages one after another (latency, not throughput); a training step is 1F1B over m
 * micro-batches, (m + pp − 1) micro-batch slots (Narayanan et al. 2021). Communication is added,
 * not overlapped: an upper bound.
 */
import type { Recompute } from "./activations.js";
import { type CommItem, commItem, groupBandwidth } from "./comm.js";
import type { DeviceSpec, Efficiency, Precision } from "./hardware.js";
import { type Layout, stageLayers } from "./layout.js";
import { kvBytesPerToken, kvTokensPerLayer, type PlanWorkloadSpec, replicaShape } from "./memory.js";
import { deviceWeights, type ModelFacts } from "./model-facts.js";

/** Fixed cost per collective call (NCCL small-message latency on NVLink is ~10 µs): an assumption. */
export const COLLECTIVE_LATENCY_MS = 0.01;

export interface TimeOptions {
  /** Precision the matmuls run at (quantised weights are dequantised to it). */
  readonly precision: Precision;
  readonly recompute: Recompute;
  /** Overrides of the device's efficiency factors. */
  readonly efficiency?: Partial<Efficiency> | undefined;
}

export interface PlanTime {
  readonly prefillMs: number;
  readonly decodeMsPerToken: number;
  readonly trainStepMs: number;
  /** Communication included in trainStepMs (train) or decodeMsPerToken (infer, serve). */
  readonly commMs: number;
  readonly comm: readonly CommItem[];
  /** Which roofline bound the main phase hits. */
  readonly bound: "compute" | "memory";
  /** Distinct routed experts one decode step reads per MoE layer (1 for a dense model). */
  readonly expertsRead: number;
  /** Bytes one decode step reads on the device, over all its pipeline stages (weights + KV); 0 for train. */
  readonly decodeBytesPerToken: number;
}

/**
 * Expected distinct experts a batch of B tokens routes to per layer, each token choosing k of E
 * uniformly: E·(1 − (1 − k/E)^B).
 */
export function expectedExpertsRead(experts: number, topK: number, tokens: number): number {
  if (experts <= 1) return 1;
  return experts * (1 - (1 - Math.min(topK, experts) / experts) ** tokens);
}

/** Time in ms of the device's share of a phase, and whether compute or memory bounds it. */
function roofline(
  flops: number,
  bytes: number,
  device: DeviceSpec,
  o: TimeOptions,
): { ms: number; bound: "compute" | "memory" } {
  const eff = { ...device.efficiency, ...o.efficiency };
  const peak = device.flops[o.precision] || device.flops.bf16;
  const c = flops / (peak * eff.compute);
  const m = bytes / (device.bandwidth * eff.memory);
  return { ms: Math.max(c, m) * 1000, bound: c >= m ? "compute" : "memory" };
}

const sum = (items: readonly CommItem[]) => items.reduce((s, c) => s + c.ms, 0);
const withLatency = (c: CommItem, calls: number): CommItem =>
  c.bytes > 0 ? { ...c, ms: c.ms + calls * COLLECTIVE_LATENCY_MS } : c;

/** Prefill, decode-per-token and train-step time on one device of a layout. */
export function planTime(
  f: ModelFacts,
  layout: Layout,
  device: DeviceSpec,
  w: PlanWorkloadSpec,
  o: TimeOptions,
): PlanTime {
  const { tp, pp, dp } = layout;
  const a = f.arch;
  const bb = f.baseBytes;
  const { seqs, microBatches: m } = replicaShape(w, dp);
  const tpBw = groupBandwidth(device, tp, 1);
  const ppBw = groupBandwidth(device, pp, tp);
  const dpBw = groupBandwidth(device, dp, tp * pp);
  const maxLayers = Math.max(...stageLayers(a.layers, pp));

  if (w.kind !== "train") {
    const e = f.estimateFor({ kind: "infer", batch: seqs, seq: w.seq, generate: w.generate });
    const pre = roofline(e.flops.prefill / tp, e.bytesMoved.prefill / tp, device, o);
    const prefillTokens = seqs * w.seq;
    const prefillComm = [
      withLatency(
        commItem(
          "tp all-reduce (prefill)",
          "all-reduce",
          prefillTokens * a.dModel * bb,
          2 * a.layers,
          tp,
          tpBw,
        ),
        2 * a.layers,
      ),
      commItem("pp send (prefill)", "send", prefillTokens * a.dModel * bb, pp - 1, 2, ppBw),
    ];
    // Decode: every stage's weights, less the routed experts no token of the batch chose.
    const expertsRead = expectedExpertsRead(a.experts, a.topK, seqs);
    const unread = a.experts > 1 ? 1 - expertsRead / a.experts : 0;
    const weightRead = stageLayers(a.layers, pp).reduce((s, layers, i) => {
      const dw = deviceWeights(f, tp, layers, i === 0, i === pp - 1);
      return s + dw.bytes - dw.routedExpertBytes * unread;
    }, 0);
    const ctx = w.seq + Math.max(1, w.generate);
    const kvRead = seqs * kvTokensPerLayer(f, ctx, (t) => t) * kvBytesPerToken(f, tp, a.layers);
    const dec = roofline(e.flops.decodePerToken / tp, weightRead + kvRead, device, o);
    const decodeComm = [
      withLatency(
        commItem("tp all-reduce (decode)", "all-reduce", seqs * a.dModel * bb, 2 * a.layers, tp, tpBw),
        2 * a.layers,
      ),
      commItem("pp send (decode)", "send", seqs * a.dModel * bb, pp - 1, 2, ppBw),
    ];
    return {
      prefillMs: pre.ms + sum(prefillComm),
      decodeMsPerToken: dec.ms + sum(decodeComm),
      trainStepMs: 0,
      commMs: sum(decodeComm),
      comm: [...prefillComm, ...decodeComm].filter((c) => c.bytes > 0),
      bound: dec.bound,
      expertsRead,
      decodeBytesPerToken: weightRead + kvRead,
    };
  }

  const e = f.estimateFor({ kind: "train", batch: w.microBatch, seq: w.seq, generate: 0 });
  const recomputeFlops =
    o.recompute === "selective"
      ? e.flops.attentionPrefill
      : o.recompute === "full" && !f.checkpointed
        ? e.flops.prefill
        : 0;
  const mb = roofline(
    (e.flops.trainStep + recomputeFlops) / (tp * pp),
    e.bytesMoved.trainStep / (tp * pp),
    device,
    o,
  );
  const compute = (m + pp - 1) * mb.ms;
  const tokens = w.microBatch * w.seq;
  const act = tokens * a.dModel * bb;
  // Megatron: two all-reduces per layer forward, two backward (+2 when full recomputation reruns
  // the forward); sequence parallelism swaps each for an all-gather + reduce-scatter of equal volume.
  const tpCalls = m * maxLayers * (o.recompute === "full" ? 6 : 4);
  const dw = deviceWeights(f, tp, maxLayers, true, pp === 1);
  const share = f.params.adapters > 0 ? maxLayers / a.layers / tp : dw.params / f.params.total;
  const grads = f.grad * share;
  const comm: CommItem[] = [
    withLatency(commItem("tp all-reduce", "all-reduce", act, tpCalls, tp, tpBw), tpCalls),
    commItem("pp send (forward + backward)", "send", act, 2 * m, pp, ppBw),
  ];
  if (layout.zero <= 1) comm.push(commItem("dp gradient all-reduce", "all-reduce", grads, 1, dp, dpBw));
  else if (layout.zero === 2) {
    comm.push(commItem("dp gradient reduce-scatter", "reduce-scatter", grads, 1, dp, dpBw));
    comm.push(commItem("dp parameter all-gather", "all-gather", dw.bytes, 1, dp, dpBw));
  } else {
    comm.push(commItem("zero-3 parameter all-gather (fwd + bwd)", "all-gather", dw.bytes, 2 * m, dp, dpBw));
    comm.push(commItem("zero-3 gradient reduce-scatter", "reduce-scatter", grads, m, dp, dpBw));
  }
  if (layout.offload !== "none" && !device.unified) {
    // ZeRO-Offload: gradients down to the host and updated parameters back, once per step; with
    // parameters offloaded they also stream up for forward and backward of each micro-batch.
    const host = device.host.bandwidth * (o.efficiency?.network ?? device.efficiency.network);
    const shard = 1 / (layout.zero >= 1 ? dp : 1);
    const perStep = (grads + dw.bytes) * shard;
    const streamed = layout.offload === "optimizer+params" ? 2 * m * (dw.bytes / dp) : 0;
    const bytes = perStep + streamed;
    comm.push({ what: "host offload traffic", kind: "send", bytes, ms: (bytes / host) * 1000 });
  }
  const commMs = sum(comm);
  return {
    prefillMs: 0,
    decodeMsPerToken: 0,
    trainStepMs: compute + commMs,
    commMs,
    comm: comm.filter((c) => c.bytes > 0),
    bound: mb.bound,
    expertsRead: expectedExpertsRead(a.experts, a.topK, tokens),
    decodeBytesPerToken: 0,
  };
}
