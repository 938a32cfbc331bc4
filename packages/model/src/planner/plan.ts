/**
 * `planCluster`: size a model + configuration on N devices of a hardware preset. With tp/pp/dp
 * given, one layout is evaluated; without, every layout is searched and ranked. The result is the
 * JSON the `compare plan` command prints (stable field names; README "Plan for many GPUs").
 */
import { type ArchSpec, type Configuration, ValueError } from "@tradeoffs/core-tensor";
import { checkTrainingChoice, type TrainingChoice } from "../optim/training-choice.js";
import { getPreset, type PresetName } from "../presets.js";
import type { Recompute } from "./activations.js";
import type { CommItem } from "./comm.js";
import {
  type Convention,
  type DeepSpeedFigures,
  type EvalOptions,
  type Evaluation,
  evaluateLayout,
  layoutFootprint,
} from "./evaluate.js";
import { type DeviceSpec, type Efficiency, getDevice, type Precision } from "./hardware.js";
import { checkLayout, type Layout, type Offload, type PlanWorkload, type ZeroStage } from "./layout.js";
import type { OverheadOptions, PlanWorkloadSpec } from "./memory.js";
import { type ModelFacts, modelFacts } from "./model-facts.js";
import { type SearchFixed, searchLayouts, smallestFit } from "./search.js";

/** What to plan: model, configuration, hardware, device count, workload and (optionally) the layout. */
export interface PlanRequest {
  /** A published preset's name or an architecture (e.g. from a Hugging Face config.json). */
  readonly model: PresetName | ArchSpec;
  /** The strategies to plan (`parse("NF4+GQA")`). */
  readonly config: Configuration;
  /** A preset name (`h100-80gb`, `mi300x`, `local`, ...) or a device spec (`deviceFromJson`). */
  readonly hardware: string | DeviceSpec;
  /** Devices in all (tp × pp × dp). */
  readonly devices: number;
  /** Default `infer`. */
  readonly workload?: PlanWorkload;
  /** Prompt (infer, serve) or sequence (train) length; default 2048. */
  readonly seq?: number;
  /** Tokens generated (infer, serve); default 128 (0 for train). */
  readonly generate?: number;
  /** Sequences: global batch (train; default devices × micro-batch) or decoded together (infer/serve; default 1). */
  readonly batch?: number;
  /** Sequences per micro-batch (train); default 1. */
  readonly microBatch?: number;
  /** Tensor parallel degree; with pp and dp absent every layout is searched. */
  readonly tp?: number;
  /** Pipeline parallel degree. */
  readonly pp?: number;
  /** Data parallel degree (default: the devices left over). */
  readonly dp?: number;
  /** ZeRO stage for training (default 0; searched when absent). */
  readonly zero?: ZeroStage;
  /** CPU offload for training (default none). */
  readonly offload?: Offload;
  /** Sequence parallelism with tp > 1; default on for training. */
  readonly sp?: boolean;
  /** Default `full` when the configuration checkpoints layers, else `none`. */
  readonly recompute?: Recompute;
  /** Dropout masks in activations (GPT-3 style); default false (Llama has none). */
  readonly dropout?: boolean;
  /** Default `bf16`. */
  readonly precision?: Precision;
  /** Overrides of the device's efficiency factors. */
  readonly efficiency?: Partial<Efficiency> | undefined;
  /** Overrides of the named framework overhead. */
  readonly overhead?: OverheadOptions | undefined;
  /** Default 0.05. */
  readonly headroom?: number;
  /** vLLM gpu_memory_utilization; default 0.9. */
  readonly utilization?: number;
  /** Default `tradeoffs`; `deepspeed` reproduces DeepSpeed's model-state estimators. */
  readonly convention?: Convention;
  /** DeepSpeed convention: zero.Init (default true). */
  readonly zeroInit?: boolean;
  /**
   * Training: the optimizer and how parameters are held (bf16, master weights), as `estimate()`
   * takes them; the `optim` and `grad` bytes follow. Gradient accumulation is the plan's own
   * `batch` / (`microBatch` × dp), so `gradAccum` is not taken here.
   */
  readonly training?: PlanTraining;
}

/** The training choices a plan takes (`TrainingChoice` without `gradAccum`). */
export type PlanTraining = Omit<TrainingChoice, "gradAccum">;

/** One evaluated layout, as JSON. */
export interface PlanCandidate {
  /** The layout evaluated. */
  readonly layout: Layout;
  /** Bytes on the device that needs the most. */
  readonly perDeviceTotal: number;
  /** Fits with the requested headroom (serve: one sequence fits). */
  readonly fits: boolean;
  /** Time per device; see `ClusterPlan.time`. */
  readonly time: {
    readonly prefillMs: number;
    readonly decodeMsPerToken: number;
    readonly trainStepMs: number;
    readonly commMs: number;
  };
  /** KV tokens over all replicas (serve), else null. */
  readonly kvCapacityTokens: number | null;
  /** Sequences of prompt + generate tokens held at once over all replicas (serve), else null. */
  readonly maxConcurrentSequences: number | null;
}

/** The plan `compare plan --json` prints (stable field names; README "Plan for many GPUs"). */
export interface ClusterPlan {
  /** The architecture's name. */
  readonly model: string;
  /** The configuration's canonical label. */
  readonly config: string;
  /** The device preset's name. */
  readonly hardware: string;
  /** Devices in all. */
  readonly devices: number;
  /** `tradeoffs`, or `deepspeed` (model states by DeepSpeed's formulas). */
  readonly convention: Convention;
  /** The workload as planned, defaults filled. */
  readonly workload: PlanWorkloadSpec;
  /** The training choices the plan was sized with (absent: AdamW on the weights' own dtype). */
  readonly training?: PlanTraining;
  /** The layout given, or the best one found. */
  readonly layout: Layout;
  /** Memory of the device that needs the most (first or last pipeline stage). */
  readonly perDevice: {
    readonly stage: number;
    readonly layers: number;
    readonly bytes: {
      readonly weights: number;
      readonly adapters: number;
      readonly kv: number;
      readonly act: number;
      readonly grad: number;
      readonly optim: number;
      readonly tmp: number;
      readonly overhead: number;
    };
    readonly overhead: {
      readonly context: number;
      readonly fragmentation: number;
      readonly commBuffers: number;
    };
    readonly total: number;
    readonly capacity: number;
    /** capacity × (1 − headroom). */
    readonly usable: number;
    readonly fits: boolean;
  };
  /** Host memory per device (offload), and per node. */
  readonly cpuBytes: number;
  /** Host bytes per node (all its devices' ranks; DeepSpeed's figure under its convention). */
  readonly cpuBytesPerNode: number;
  /** KV tokens over all replicas (serve), else null. */
  readonly kvCapacityTokens: number | null;
  /** KV blocks per replica (serve), else null. */
  readonly kvBlocks: number | null;
  /** Sequences of prompt + generate tokens held at once over all replicas (serve), else null. */
  readonly maxConcurrentSequences: number | null;
  /** Largest batch (micro-batch for train, sequences otherwise) and sequence length that fit this layout. */
  readonly maxBatch: number;
  /** Longest sequence (KV tokens per replica for serve) that fits the layout. */
  readonly maxSeq: number;
  /** Time on one device of the layout. */
  readonly time: {
    readonly prefillMs: number;
    readonly decodeMsPerToken: number;
    readonly trainStepMs: number;
    readonly commMs: number;
    readonly bound: "compute" | "memory";
    readonly expertsRead: number;
    readonly decodeBytesPerToken: number;
  };
  /** The collectives behind `time.commMs` and the prefill's. */
  readonly comm: readonly CommItem[];
  /** DeepSpeed's figures under `--convention deepspeed`, else null. */
  readonly deepspeed: DeepSpeedFigures | null;
  /** Every layout evaluated, fitting first, by time (one when the layout was given). */
  readonly candidates: readonly PlanCandidate[];
  /** The smallest device count with a layout that fits, and that layout. */
  readonly smallestFit: { readonly devices: number; readonly layout: Layout } | null;
  /** Why a figure is approximate or what was assumed. */
  readonly notes: readonly string[];
}

const candidate = (e: Evaluation): PlanCandidate => ({
  layout: e.layout,
  perDeviceTotal: e.memory.total,
  fits: e.fits,
  time: {
    prefillMs: e.time.prefillMs,
    decodeMsPerToken: e.time.decodeMsPerToken,
    trainStepMs: e.time.trainStepMs,
    commMs: e.time.commMs,
  },
  kvCapacityTokens: e.serve ? e.serve.tokens * e.layout.dp : null,
  maxConcurrentSequences: e.serve ? e.serve.maxConcurrentSequences : null,
});

/** Largest n in [1, hi] with ok(n) (ok monotone decreasing); 0 when even 1 fails. */
export function largestFitting(ok: (n: number) => boolean, hi: number): number {
  if (!ok(1)) return 0;
  let lo = 1;
  let step = 2;
  while (step <= hi && ok(step)) {
    lo = step;
    step *= 2;
  }
  let top = Math.min(step, hi + 1); // ok(lo) holds; ok(top) fails or top is past hi
  while (top - lo > 1) {
    const mid = Math.floor((lo + top) / 2);
    if (ok(mid)) lo = mid;
    else top = mid;
  }
  return lo;
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1))
    throw new ValueError(`${name} ${v}: must be a positive integer`, { [name]: v });
}

/** Plan a model + configuration on `devices` devices. Throws `ValueError` on bad input (one line). */
export function planCluster(req: PlanRequest): ClusterPlan {
  return planFrom(req, resolveRequest(req));
}

/** A checked request in the planner's terms: facts, device, workload and evaluation options. */
interface Resolved {
  readonly f: ModelFacts;
  readonly device: DeviceSpec;
  readonly w: PlanWorkloadSpec;
  readonly o: EvalOptions;
  readonly fixedRest: SearchFixed;
  /** Training with no global batch given: the batch grows with the devices (`smallestFit`). */
  readonly batchPerDevice: number | undefined;
}

/**
 * Check `req` and put it in the planner's terms. `facts` (of the same model, configuration and
 * training choice) are reused when given: they cache the estimator's figures per workload.
 */
function resolveRequest(req: PlanRequest, facts?: ModelFacts): Resolved {
  for (const k of ["devices", "seq", "batch", "microBatch", "tp", "pp", "dp"] as const)
    positiveInt(k, req[k]);
  if (req.generate !== undefined && !(Number.isInteger(req.generate) && req.generate >= 0))
    throw new ValueError(`generate ${req.generate}: must be a non-negative integer`);
  const device = typeof req.hardware === "string" ? getDevice(req.hardware) : req.hardware;
  const arch = typeof req.model === "string" ? getPreset(req.model).arch : req.model;
  const problems = req.config.check({ arch });
  if (problems.length > 0)
    throw new ValueError(`${req.config.label} on ${arch.name}: ${problems.join("; ")}`, { problems });
  if (req.training !== undefined) {
    if ((req.workload ?? "infer") !== "train")
      throw new ValueError("an optimizer or parameter dtype sizes a training step; plan --workload train");
    if ((req.training as TrainingChoice).gradAccum !== undefined)
      throw new ValueError(
        "gradient accumulation in a plan is batch / (micro-batch × dp): set --batch and --micro-batch, not --grad-accum",
      );
    checkTrainingChoice(req.training);
  }
  const f = facts ?? modelFacts(req.model, req.config, req.training);
  const kind = req.workload ?? "infer";
  const microBatch = req.microBatch ?? 1;
  const n = req.devices;
  const w: PlanWorkloadSpec = {
    kind,
    batch: req.batch ?? (kind === "train" ? n * microBatch : 1),
    seq: req.seq ?? 2048,
    generate: kind === "train" ? 0 : (req.generate ?? 128),
    microBatch,
  };
  const o: EvalOptions = {
    recompute: req.recompute ?? (f.checkpointed ? "full" : "none"),
    dropout: req.dropout ?? false,
    precision: req.precision ?? "bf16",
    efficiency: req.efficiency,
    overhead: req.overhead,
    headroom: req.headroom ?? 0.05,
    utilization: req.utilization ?? 0.9,
    convention: req.convention ?? "tradeoffs",
    zeroInit: req.zeroInit ?? true,
  };
  if (o.convention === "deepspeed" && kind !== "train")
    throw new ValueError("--convention deepspeed sizes training model states; use --workload train");
  const deepspeed = o.convention === "deepspeed";
  const fixedRest = {
    zero: req.zero,
    offload: req.offload,
    sp: req.sp,
    ...(deepspeed ? { tp: 1, pp: 1 } : {}),
  };
  const batchPerDevice = kind === "train" && req.batch === undefined ? microBatch : undefined;
  return { f, device, w, o, fixedRest, batchPerDevice };
}

/**
 * The plan of a resolved request: the given layout, or the best one searched. `smallest`: the
 * request's `smallestFit` when the caller has it already (`smallestPlan`).
 */
function planFrom(req: PlanRequest, r: Resolved, smallest?: Evaluation | null): ClusterPlan {
  const { f, device, w, o, fixedRest } = r;
  const kind = w.kind;
  const n = req.devices;
  const deepspeed = o.convention === "deepspeed";
  const given = req.tp !== undefined || req.pp !== undefined || req.dp !== undefined;
  let chosen: Evaluation;
  let ranked: Evaluation[];
  if (given || deepspeed) {
    // Unset degrees are 1, except that data parallelism takes the devices left over (or, when only
    // dp is set, tensor parallelism does).
    const pp = req.pp ?? 1;
    const tp = req.tp ?? (req.dp !== undefined && !deepspeed ? n / (pp * req.dp) : 1);
    const layout: Layout = {
      tp,
      pp,
      dp: req.dp ?? n / (tp * pp),
      zero: req.zero ?? (deepspeed ? 2 : 0),
      offload: req.offload ?? "none",
      sp: tp > 1 && (req.sp ?? kind === "train"),
    };
    checkLayout(layout, f.arch, n, kind);
    chosen = evaluateLayout(f, layout, device, n, w, o);
    ranked = [chosen];
  } else {
    ranked = searchLayouts(f, device, n, w, o, fixedRest);
    const best = ranked[0];
    if (!best) throw new ValueError(`no valid layout of ${n} devices for ${f.arch.name}; try another --gpus`);
    chosen = best;
  }
  const small = smallest !== undefined ? smallest : smallestFit(f, device, w, o, fixedRest, r.batchPerDevice);
  const L = chosen.layout;
  const fitsWith = (ws: PlanWorkloadSpec) => layoutFootprint(f, L, device, n, ws, o).fits;
  const largestBatch = (): number =>
    deepspeed
      ? 0
      : kind === "serve"
        ? (chosen.serve?.maxConcurrentSequences ?? 0)
        : kind === "train"
          ? largestFitting(
              (b) => fitsWith({ ...w, microBatch: b, batch: Math.max(w.batch, b * L.dp) }),
              1 << 16,
            )
          : largestFitting((b) => fitsWith({ ...w, batch: b }), 1 << 20);
  const largestSeq = (): number =>
    deepspeed
      ? 0
      : kind === "serve"
        ? (chosen.serve?.tokens ?? 0)
        : largestFitting((s) => fitsWith({ ...w, seq: s }), 1 << 24);
  // Each takes some 40–50 footprints. A projection reads only the device count and the time, so the
  // two are computed on first read (JSON, spreads and copies read them like any other field).
  let maxBatch: number | undefined;
  let maxSeq: number | undefined;
  const m = chosen.memory;
  const overheadSum = m.overhead.context + m.overhead.fragmentation + m.overhead.commBuffers;
  const notes: string[] = [];
  if (f.arch.kvHeads < L.tp)
    notes.push(
      `${f.arch.kvHeads} KV heads < tp ${L.tp}: each KV head is replicated on ${L.tp / f.arch.kvHeads} devices (as vLLM does)`,
    );
  if (f.arch.layers % L.pp !== 0)
    notes.push(`${f.arch.layers} layers do not split evenly over pp ${L.pp}: the first stages take one more`);
  if (f.arch.experts > 1) notes.push("experts are split by tensor parallelism (no expert parallelism)");
  if (kind === "train") notes.push("step time adds communication to compute (no overlap): an upper bound");
  if (deepspeed)
    notes.push(
      "DeepSpeed convention: model states only (no activations, no overhead); cpu is per node with its buffer factor 1.5",
    );
  if (deepspeed && L.zero === 1)
    notes.push(
      "ZeRO-1 uses DeepSpeed's stage_1_and_2 estimator, the ZeRO-2 formula (DeepSpeed publishes no separate one)",
    );
  if (device.unified && L.offload !== "none") notes.push("unified memory: offload moves nothing");
  return {
    model: f.arch.name,
    config: f.label,
    hardware: device.name,
    devices: n,
    convention: o.convention,
    workload: w,
    ...(req.training !== undefined ? { training: req.training } : {}),
    layout: L,
    perDevice: {
      stage: m.stage,
      layers: m.layers,
      bytes: { ...m.bytes, overhead: overheadSum },
      overhead: m.overhead,
      total: m.total,
      capacity: chosen.capacity,
      usable: chosen.usable,
      fits: chosen.fits,
    },
    cpuBytes: m.cpuBytes,
    cpuBytesPerNode: chosen.deepspeed
      ? chosen.deepspeed.cpuBytesPerNode
      : m.cpuBytes * Math.min(n, device.gpusPerNode),
    kvCapacityTokens: chosen.serve ? chosen.serve.tokens * L.dp : null,
    kvBlocks: chosen.serve ? chosen.serve.blocks : null,
    maxConcurrentSequences: chosen.serve ? chosen.serve.maxConcurrentSequences : null,
    get maxBatch() {
      maxBatch ??= largestBatch();
      return maxBatch;
    },
    get maxSeq() {
      maxSeq ??= largestSeq();
      return maxSeq;
    },
    time: {
      prefillMs: chosen.time.prefillMs,
      decodeMsPerToken: chosen.time.decodeMsPerToken,
      trainStepMs: chosen.time.trainStepMs,
      commMs: chosen.time.commMs,
      bound: chosen.time.bound,
      expertsRead: chosen.time.expertsRead,
      decodeBytesPerToken: chosen.time.decodeBytesPerToken,
    },
    comm: chosen.time.comm,
    deepspeed: chosen.deepspeed,
    candidates: ranked.map(candidate),
    smallestFit: small
      ? { devices: small.layout.tp * small.layout.pp * small.layout.dp, layout: small.layout }
      : null,
    notes,
  };
}

/**
 * The plan on the smallest device count with a layout that fits (that layout), or null when none up
 * to 4096 devices does: what a projection shows instead of "total bytes ÷ device memory".
 */
export function smallestPlan(req: Omit<PlanRequest, "devices" | "tp" | "pp" | "dp">): ClusterPlan | null {
  const r = resolveRequest({ ...req, devices: 1 });
  const best = smallestFit(r.f, r.device, r.w, r.o, r.fixedRest, r.batchPerDevice);
  if (!best) return null;
  const { tp, pp, dp, zero, offload, sp } = best.layout;
  const at = { ...req, devices: tp * pp * dp, tp, pp, dp, zero, offload, sp };
  return planFrom(at, resolveRequest(at, r.f), best);
}
