/**
 * What the planner needs to know about one model + configuration, read from the estimator's public
 * result (`estimate()`: params, bytes per category) and the effective architecture, and how a
 * device's share of the weights follows from a layout (heads and FFN columns split over tp, KV heads
 * replicated below tp, layers over pp, embedding on the first stage, head on the last).
 */
import type { ArchSpec, Configuration, WorkloadSpec } from "@tradeoffs/core-tensor";
import { type Estimate, estimate, type ParamCounts } from "../estimator.js";
import { getPreset, type PresetName } from "../presets.js";
import { kvHeadsPerDevice } from "./layout.js";

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
  /** KV-cache bytes per token, per layer, per KV head (K and V, scales included). */
  readonly kvBytesPerTokenHead: number;
  /** Tokens per KV block under a paged configuration; null for contiguous. */
  readonly pagedBlock: number | null;
  readonly flash: boolean;
  /** The configuration checkpoints layers (full recomputation). */
  readonly checkpointed: boolean;
  /** The estimator's figures for another workload (cached). */
  estimateFor(w: WorkloadSpec): Estimate;
}

const KV_PROBE_TOKENS = 4096; // a multiple of every paged block size in use, so no rounding

/** Read the facts for a preset (or architecture) under a configuration. */
export function modelFacts(model: PresetName | ArchSpec, config: Configuration): ModelFacts {
  const cache = new Map<string, Estimate>();
  const estimateFor = (w: WorkloadSpec): Estimate => {
    const key = `${w.kind}:${w.batch}:${w.seq}:${w.generate}`;
    let e = cache.get(key);
    if (!e) {
      e = estimate(model, config, w);
      cache.set(key, e);
    }
    return e;
  };
  const train = estimateFor({ kind: "train", batch: 1, seq: 1, generate: 0 });
  const infer = estimateFor({ kind: "infer", batch: 1, seq: KV_PROBE_TOKENS, generate: 0 });
  const arch = train.plan.arch;
  const executable = typeof model === "string" && getPreset(model).executable;
  const baseBytes = train.plan.baseBytes ?? (executable ? 4 : 2);
  const linear = linearParamsPerLayer(arch) * arch.layers;
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
    kvBytesPerTokenHead: infer.bytes.kv / (KV_PROBE_TOKENS * arch.layers * arch.kvHeads),
    pagedBlock: block,
    flash: config.get("attention")?.name === "Flash",
    checkpointed: (() => {
      const c = config.get("checkpoint");
      return c !== undefined && c.name !== "None";
    })(),
    estimateFor,
  };
}

/** Linear weights of one layer (every expert copy), unsplit. */
function linearParamsPerLayer(arch: ArchSpec): number {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: D, ffnHidden: F } = arch;
  const perExpert = (arch.ffnKind === "swiglu" ? 3 : 2) * F * d;
  return 2 * H * D * d + 2 * Hkv * D * d + (arch.experts + arch.sharedExperts) * perExpert;
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
 * The weights on one device of a stage with `layers` layers: per layer, q and o (and their column
 * biases) split over tp, k and v for the device's KV heads, FFN matrices split over tp per expert,
 * norms and the router replicated; the embedding (vocab-parallel over tp) and learned positions on
 * the first stage; the final norm and the head on the last (a tied head is a second copy when the
 * first and last stages differ, as Megatron-LM keeps it).
 */
export function deviceWeights(
  f: ModelFacts,
  tp: number,
  layers: number,
  first: boolean,
  last: boolean,
): DeviceWeights {
  const a = f.arch;
  const { dModel: d, heads: H, headDim: D, ffnHidden: F, vocab: V } = a;
  const kvDev = kvHeadsPerDevice(a.kvHeads, tp);
  const E = a.experts;
  const S = a.sharedExperts;
  const perExpert = ((a.ffnKind === "swiglu" ? 3 : 2) * F * d) / tp;
  const attnLinear = (2 * H * D * d) / tp + 2 * kvDev * D * d;
  const bias = a.biases
    ? (H * D) / tp + 2 * kvDev * D + d + (E + S) * ((a.ffnKind === "swiglu" ? 2 * F : F) / tp + d)
    : 0;
  const normSize = a.norm === "layernorm" ? 2 * d : d;
  const layerOther = bias + 2 * normSize + (E > 1 ? d * E : 0);
  const layerLinear = attnLinear + (E + S) * perExpert;
  let edge = 0;
  if (first) edge += (V * d) / tp + (a.positional === "learned" ? a.maxSeq * d : 0);
  if (last) edge += normSize + (!a.tiedEmbeddings || !first ? (V * d) / tp : 0);
  const lb = f.linearBytesPerParam;
  const bb = f.baseBytes;
  return {
    bytes: layers * (layerLinear * lb + layerOther * bb) + edge * bb,
    params: layers * (layerLinear + layerOther) + edge,
    routedExpertBytes: E > 1 ? layers * E * perExpert * lb : 0,
    layerBytes: Math.max(layerLinear * lb + layerOther * bb, first || last ? ((V * d) / tp) * bb : 0),
  };
}
