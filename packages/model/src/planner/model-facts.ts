/**
 * What the planner needs to know about one model + configuration, read from the estimator's public
 * result (`estimate()`: params, bytes per category) and the effective architecture, and how a
 * device's share of the weights follows from a layout (heads and FFN columns split over tp, KV heads
 * replicated below tp, layers over pp, embedding on the first stage, head on the last).
 */

import type { ArchSpec, Configuration, WorkloadSpec } from "@tradeoffs/core-tensor";
import { type Estimate, estimate, type ParamCounts } from "../estimator.js";
import { kvCacheHeads, kvGroups } from "../kv-layout.js";
import { denseLayerCount, type LinearMatrix, linearParams, modelLinears } from "../params.js";
import { getPreset, type PresetName } from "../presets.js";
import { kvHeadsPerDevice } from "./layout.js";
import type { PlanTraining } from "./plan.js";

export interface ModelFacts {
  readonly model: PresetName | ArchSpec;
  readonly config: Configuration;
  readonly label: string;
  /** The architecture after the configuration's strategies (GQA's kvHeads, MoE's experts). */
  readonly arch: ArchSpec;
  /** Bytes per element of unquantised tensors (2 for published presets, 4 for executable ones). */
  readonly baseBytes: number;
  /** Bytes per linear-layer weight in the configuration's format, scales included. */
  readonly linearBytesPerParam: number;
  readonly params: ParamCounts;
  /** Whole-model bytes the estimator reports for a training step. */
  readonly weights: number;
  readonly adapters: number;
  readonly grad: number;
  readonly optim: number;
  /**
   * KV-cache bytes per token, per layer, per KV head (K and V, scales included); MLA counts its
   * latent as one head (`kvCacheHeads`), held whole on every tensor-parallel device.
   */
  readonly kvBytesPerTokenHead: number;
  /** Tokens per KV block under a paged configuration; null for contiguous. */
  readonly pagedBlock: number | null;
  /** The architecture's linear matrices (`modelLinears`), listed once for every layout `deviceWeights` sizes. */
  readonly linears: readonly LinearMatrix[];
  readonly flash: boolean;
  /** The configuration checkpoints layers (full recomputation). */
  readonly checkpointed: boolean;
  /** The estimator's figures for another workload (cached). */
  estimateFor(w: WorkloadSpec): Estimate;
}

/** Read the facts for a preset (or architecture) under a configuration. */
export function modelFacts(
  model: PresetName | ArchSpec,
  config: Configuration,
  training?: PlanTraining,
): ModelFacts {
  const cache = new Map<string, Estimate>();
  const estimateFor = (w: WorkloadSpec): Estimate => {
    const key = `${w.kind}:${w.batch}:${w.seq}:${w.generate}`;
    let e = cache.get(key);
    if (!e) {
      e = estimate(model, config, w, training ? { training } : {});
      cache.set(key, e);
    }
    return e;
  };
  const train = estimateFor({ kind: "train", batch: 1, seq: 1, generate: 0 });
  const arch = train.plan.arch;
  const executable = typeof model === "string" && getPreset(model).executable;
  const baseBytes = train.plan.baseBytes ?? (executable ? 4 : 2);
  const linear = linearParams(arch);
  const nonLinear = train.params.total - linear;
  const kvm = config.get("kv-memory");
  const block = kvm?.name === "Paged" ? Number((kvm.options as Record<string, unknown>).block ?? 16) : null;
  return {
    model,
    config,
    label: train.config,
    arch,
    baseBytes,
    linearBytesPerParam: (train.bytes.weights - nonLinear * baseBytes) / linear,
    params: train.params,
    weights: train.bytes.weights,
    adapters: train.bytes.adapters,
    grad: train.bytes.grad,
    optim: train.bytes.optim,
    kvBytesPerTokenHead: kvBytesPerTokenHead(train.plan.arch, train.plan.kv),
    pagedBlock: block,
    linears: modelLinears(arch),
    flash: config.get("attention")?.name === "Flash",
    checkpointed: (() => {
      const c = config.get("checkpoint");
      return c !== undefined && c.name !== "None";
    })(),
    estimateFor,
  };
}

/**
 * K and V bytes one token adds per layer and cache head under the plan's KV cost (the estimator's
 * rule: elements per vector at the KV dtype plus its scale), the same in every layer group.
 */
function kvBytesPerTokenHead(
  arch: ArchSpec,
  kv: { bytesPerElement: number; scaleBytesPerVector: number },
): number {
  const g = kvGroups(arch)[0];
  if (!g) return 0;
  return (g.vectors / kvCacheHeads(arch)) * (g.width * kv.bytesPerElement + kv.scaleBytesPerVector);
}

/** One device's share of the weights. */
export interface DeviceWeights {
  /** Bytes of weights the device holds. */
  readonly bytes: number;
  /** Parameters the device holds. */
  readonly params: number;
  /** Of `bytes`: the routed experts' linear weights (read E·(1−(1−k/E)^B)/E of them per decode step). */
  readonly routedExpertBytes: number;
  /** Bytes of the largest layer's weights on the device (what ZeRO-3 gathers at once). */
  readonly layerBytes: number;
}

/**
 * The share of a matrix one device holds under tensor parallelism (vLLM's layout): K and V by the
 * device's KV heads; MLA's small down-projections (q_a, kv_a) replicated; the rest split over tp.
 */
function tpShare(m: LinearMatrix, kvShare: number, tp: number): number {
  if (m.role === "k" || m.role === "v") return kvShare;
  if (m.role === "q_a" || m.role === "kv_a") return 1;
  return 1 / tp;
}

/**
 * The weights on one device of a stage with `layers` layers: per layer, q and o (and their column
 * biases) split over tp, k and v for the device's KV heads, FFN matrices split over tp per expert,
 * norms, routers and shared-expert gates replicated; the embedding (vocab-parallel over tp) and
 * learned positions on the first stage; the final norm and the head on the last (a tied head is a
 * second copy when the first and last stages differ, as Megatron-LM keeps it). An MoE model's dense
 * layers come first (DeepSeek's `first_k_dense_replace`) and sit on the first stage.
 */
export function deviceWeights(
  f: ModelFacts,
  tp: number,
  layers: number,
  first: boolean,
  last: boolean,
): DeviceWeights {
  // A search asks for the same few shares thousands of times (every layout, batch and sequence
  // length it tries), so each facts object keeps the ones it has computed.
  let cache = shares.get(f);
  if (!cache) {
    cache = new Map();
    shares.set(f, cache);
  }
  const key = `${tp}:${layers}:${first ? 1 : 0}${last ? 1 : 0}`;
  let dw = cache.get(key);
  if (!dw) {
    dw = computeDeviceWeights(f, tp, layers, first, last);
    cache.set(key, dw);
  }
  return dw;
}

/** `deviceWeights`' results per facts object, by tp, layers, first and last. */
const shares = new WeakMap<ModelFacts, Map<string, DeviceWeights>>();

function computeDeviceWeights(
  f: ModelFacts,
  tp: number,
  layers: number,
  first: boolean,
  last: boolean,
): DeviceWeights {
  const a = f.arch;
  const { dModel: d, vocab: V, experts: E } = a;
  const kvShare = kvHeadsPerDevice(a.kvHeads, tp) / a.kvHeads;
  const Ld = denseLayerCount(a);
  const Le = a.layers - Ld;
  const normSize = a.norm === "layernorm" ? 2 * d : d;
  const mlaNorms = a.mla ? a.mla.kvLoraRank + (a.mla.qLoraRank ?? 0) : 0;
  // One layer of each kind on one device: linear weights, replicated or split others, routed experts.
  const layer = (dense: boolean) => {
    let linear = 0;
    let other = (a.layerNorms ?? 2) * normSize + mlaNorms;
    let routed = 0;
    for (const m of f.linears) {
      const inLayer =
        m.part === "attn"
          ? m.copies / a.layers
          : (m.ffn === "dense") === dense
            ? m.copies / (dense ? Ld : Le)
            : 0;
      if (inLayer === 0) continue;
      const share = tpShare(m, kvShare, tp);
      linear += inLayer * share * m.out * m.in;
      // A row-parallel layer's (o, down) bias is whole on each device; a column-parallel one is split.
      if (m.bias) other += inLayer * (m.role === "o" || m.role === "down" ? 1 : share) * m.out;
      if (m.ffn === "routed" && E > 1) routed += inLayer * share * m.out * m.in;
    }
    if (!dense) other += (E > 1 ? d * E : 0) + (a.sharedExpertGate && a.sharedExperts > 0 ? d : 0);
    return { linear, other, routed };
  };
  const dense = first ? Math.min(layers, Ld) : 0;
  const kinds = [
    { n: layers - dense, ...layer(false) },
    { n: dense, ...(Ld > 0 ? layer(true) : { linear: 0, other: 0, routed: 0 }) },
  ];
  let edge = 0;
  if (first) edge += (V * d) / tp + (a.positional === "learned" ? a.maxSeq * d : 0);
  if (last) edge += normSize + (!a.tiedEmbeddings || !first ? (V * d) / tp : 0);
  const lb = f.linearBytesPerParam;
  const bb = f.baseBytes;
  const sum = (g: (k: (typeof kinds)[number]) => number) => kinds.reduce((s, k) => s + k.n * g(k), 0);
  const layerBytes = Math.max(...kinds.filter((k) => k.n > 0).map((k) => k.linear * lb + k.other * bb), 0);
  return {
    bytes: sum((k) => k.linear * lb + k.other * bb) + edge * bb,
    params: sum((k) => k.linear + k.other) + edge,
    routedExpertBytes: sum((k) => k.routed) * lb,
    layerBytes: Math.max(layerBytes, first || last ? ((V * d) / tp) * bb : 0),
  };
}
