/**
 * The analytic estimator: for an architecture, a configuration's plan and a workload, parameter
 * counts (total and active), bytes per ledger category, FLOPs and bytes moved. The formulas mirror
 * what `Transformer` allocates, so for executable presets they are checked against the ledger;
 * for published presets they are the same formulas at that scale (activations at `baseBytes`).
 */

import {
  type ArchSpec,
  CATEGORIES,
  type Category,
  type Configuration,
  js,
  type Plan,
  type SegmentList,
  type Strategy,
  type WorkloadSpec,
} from "@tradeoffs/core-tensor";
import { checkEstimateInput } from "./estimate-input.js";
import { cachedTokens, kvGroups } from "./kv-layout.js";
import { cacheGathered, headActBytes, layerActElements, layerTmpElements } from "./layer-tensors.js";
import { trainingBytes } from "./optim/train-estimate.js";
import { checkTrainingChoice, type TrainingChoice } from "./optim/training-choice.js";
import {
  countParams,
  expertLayerCount,
  type LinearMatrix,
  modelLinears,
  type ParamCounts,
  qkHeadDim,
  sumMatrices,
} from "./params.js";
import { basePlan, type PlanOptions } from "./plan.js";
import { getPreset, type PresetName } from "./presets.js";
import { filled } from "./registry.js";

export { countParams, type ParamCounts } from "./params.js";

/**
 * The analytic estimate of one workload: parameters, peak bytes per ledger category, FLOPs and bytes moved,
 * with which figures are exact and why the others are approximate. Computed from the plan at any scale.
 */
export interface Estimate {
  /** The preset (or model) name. */
  readonly model: string;
  /** The configuration's canonical label. */
  readonly config: string;
  /** The workload estimated. */
  readonly workload: WorkloadSpec;
  /** Parameter counts (total, trainable, adapters). */
  readonly params: ParamCounts;
  /** Peak bytes per ledger category over the workload (estimate). */
  readonly bytes: Readonly<Record<Category, number>>;
  /** Sum of the category peaks (an upper bound on the total peak). */
  readonly totalBytes: number;
  /** Floating-point operations of a prefill, one decode token and one training step. */
  readonly flops: {
    readonly prefill: number;
    readonly decodePerToken: number;
    readonly trainStep: number;
    /** Of the prefill: attention scores and weighted values (QKᵀ and PV). */
    readonly attentionPrefill: number;
  };
  /** Bytes read from memory: weights once per pass plus the KV cache per decode step. */
  readonly bytesMoved: {
    readonly prefill: number;
    readonly decodePerToken: number;
    readonly trainStep: number;
  };
  /** Per category: does the formula follow the implementation exactly? */
  readonly exact: Readonly<Record<Category, boolean>>;
  /** Why figures are approximate (from the strategies and the estimator). */
  readonly notes: readonly string[];
  /** The plan the figures were computed from. */
  readonly plan: Plan;
}

/** Bytes of the linear weights under the plan's weight format (data + scales, exact). */
function linearWeightBytes(plan: Plan, linears: readonly LinearMatrix[]): number {
  return sumMatrices(linears, (m) => plan.weights.bytesFor(m.out, m.in));
}

/**
 * The checkpoint segments for this workload's real byte sizes (the schedule the model runs). Outside
 * training a budget that no schedule meets only means the training-step FLOPs assume no
 * recomputation: the inference estimate must not fail on it.
 */
function checkpointSegments(
  plan: Plan,
  layerAct: number,
  layerInput: number,
  headAct: number,
  train: boolean,
): SegmentList {
  try {
    return plan.checkpoint.segments(plan.arch.layers, layerAct, layerInput, headAct);
  } catch (e) {
    if (train) throw e;
    return [];
  }
}

/** Options of `estimate()`: baselines, backend and training choices on top of the plan's options. */
export interface EstimateOptions extends PlanOptions {
  /** Fill empty slots with the executable baselines (true for tiny/small, false for published). */
  readonly fillBaselines?: boolean;
  /**
   * The backend that fills an empty backend slot when baselines are filled; default `JS`. The
   * estimate never depends on which backend happens to be active: pass `activeBackend()` to size
   * the workspace of the kernels a model built now would run on.
   */
  readonly backend?: Strategy<"backend"> | undefined;
  /** Training workloads: optimizer, bf16 parameters / master weights, gradient accumulation. */
  readonly training?: TrainingChoice | undefined;
}

/** Estimate a configuration on a preset (by name) or an architecture for a workload. */
export function estimate(
  model: PresetName | ArchSpec,
  configuration: Configuration,
  workload: WorkloadSpec,
  options: EstimateOptions = {},
): Estimate {
  const preset = typeof model === "string" ? getPreset(model) : null;
  const arch = preset ? preset.arch : (model as ArchSpec);
  const executable = preset?.executable ?? false;
  const fill = options.fillBaselines ?? executable;
  const config = fill ? filled(configuration, options.backend ?? js()) : configuration;
  const plan = config.plan(
    basePlan(arch, workload, { baseBytes: options.baseBytes ?? (executable ? 4 : 2), ...options }),
  );
  // A published model whose checkpoint holds what the architecture cannot express says so.
  const modelled = preset?.modelled?.notes ?? [];
  return estimatePlan(
    modelled.length ? { ...plan, notes: [...plan.notes, ...modelled] } : plan,
    config.label,
    options.training,
  );
}

/**
 * Gradient accumulation over `n` micro-batches: bytes of one micro-batch of batch/n (only one is
 * live at a time; gradients accumulate in place), FLOPs and bytes moved of all n per step.
 */
function accumulatedEstimate(plan: Plan, label: string, training: TrainingChoice, n: number): Estimate {
  const w = plan.workload;
  checkTrainingChoice(training, w.batch);
  const micro = estimatePlan({ ...plan, workload: { ...w, batch: w.batch / n } }, label, {
    ...training,
    gradAccum: 1,
  });
  return {
    ...micro,
    workload: w,
    flops: { ...micro.flops, trainStep: n * micro.flops.trainStep },
    bytesMoved: { ...micro.bytesMoved, trainStep: n * micro.bytesMoved.trainStep },
    notes: [
      ...micro.notes,
      `gradient accumulation: ${n} micro-batches of ${w.batch / n}; act and tmp of one, grad not multiplied`,
    ],
    plan,
  };
}

/** The estimate for a fully formed plan. */
export function estimatePlan(plan: Plan, label: string, training?: TrainingChoice): Estimate {
  const arch = plan.arch;
  const w = plan.workload;
  checkEstimateInput(arch, w);
  const accum = w.kind === "train" ? (training?.gradAccum ?? 1) : 1;
  if (accum > 1) return accumulatedEstimate(plan, label, training!, accum);
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: D, layers: L, vocab: V } = arch;
  const bb = plan.baseBytes;
  const params = countParams(plan);
  const notes = [...plan.notes];
  // The model's linear matrices, listed once for the weight bytes, the largest product and experts.
  const linears = modelLinears(arch);
  const linearParams = sumMatrices(linears, (m) => m.out * m.in);
  const weights = linearWeightBytes(plan, linears) + (params.total - linearParams) * bb;
  const adapters = params.adapters * bb;
  const train = w.kind === "train";
  const B = w.batch;
  const T = w.seq;
  const N = B * T;
  const exact: Record<Category, boolean> = {
    weights: true,
    adapters: true,
    kv: true,
    act: true,
    grad: true,
    optim: true,
    tmp: true,
  };

  // KV cache: each sequence holds the tokens the kv-memory strategy reserves for prompt + generate;
  // with sliding-window attention a rolling buffer keeps only the last `window` of them (Mistral;
  // Gemma 2's local layers), per group of layers (kv-layout.ts; MLA caches one latent per token).
  const groups = kvGroups(arch);
  const groupBytesPerToken = (g: (typeof groups)[number]) =>
    g.layers * g.vectors * (g.width * plan.kv.bytesPerElement + plan.kv.scaleBytesPerVector);
  const kvBytesFor = (tokens: number, reserve: (t: number) => number) =>
    groups.reduce((s, g) => s + reserve(cachedTokens(g, tokens)) * groupBytesPerToken(g), 0);
  const kv = train ? 0 : B * kvBytesFor(w.seq + w.generate, (t) => plan.kv.reservedTokens(t));
  const windowedGroup = groups.find((g) => cachedTokens(g, w.seq + w.generate) < w.seq + w.generate);
  if (!train && windowedGroup)
    notes.push(
      `kv: sliding-window attention keeps a rolling buffer of the last ${arch.window} tokens per sequence${windowedGroup.layers < L ? ` in ${windowedGroup.layers} of ${L} layers (the others attend globally)` : ""}`,
    );
  if (!train && arch.mla)
    notes.push(
      `kv: MLA caches one latent of kvLoraRank + qk_rope_head_dim = ${arch.mla.kvLoraRank + arch.mla.ropeHeadDim} elements per token and layer, not K and V per head`,
    );
  if (arch.mla)
    notes.push(
      "flops: MLA attention as its checkpoint's code runs it (K and V expanded per head from the latent); an engine that absorbs kv_b_proj into q and o scores against the latent instead",
    );

  // Activations saved for backward, and the checkpoint segments the model would run for them.
  const layerAct = layerActElements(plan, B, T) * bb;
  const layerInput = N * d * bb;
  const headAct = headActBytes(plan, N);
  const segments = checkpointSegments(plan, layerAct, layerInput, headAct, train);
  let act = 0;
  if (train) {
    const inSeg = new Set(segments.flat());
    const kept = (L - inSeg.size) * layerAct + segments.length * layerInput;
    // End of forward: everything kept plus the head; during backward the head is gone and one
    // segment at a time is recomputed (the checkpoint strategy's memory model).
    act = Math.max(
      kept + headAct,
      segments.length > 0 ? plan.checkpoint.peakAct(L, layerAct, layerInput, segments) : 0,
    );
    if (segments.length > 0) {
      exact.act = false;
      if (plan.checkpoint.note) notes.push(plan.checkpoint.note);
    }
    if (plan.adapters) {
      exact.act = false;
      notes.push("act with adapters: frozen layers before the first adapter save less than modelled");
    }
    if (plan.arch.experts > 1) {
      exact.act = false;
      notes.push("act with experts: routed-token activations are modelled for balanced routing");
    }
  }
  // grad and optim follow the training choice (optimizer, master weights): optim/train-estimate.ts.
  const trained = train ? trainingBytes(plan, params.trainable, training) : null;
  const gradBytes = trained?.grad ?? 0;
  const optim = trained?.optim ?? 0;
  if (trained) {
    notes.push(...trained.notes);
    exact.optim = trained.exact;
  }

  // Temporaries: the largest layer working set, or the head (normed h and logits).
  const tmpLayer = layerTmpElements(plan, B, T, T) * bb;
  // A decode step attends over the keys a layer holds (a windowed layer's rolling buffer).
  const decodeKeys = Math.max(...groups.map((g) => cachedTokens(g, w.seq + w.generate)));
  const gathered = cacheGathered(plan, B, decodeKeys, windowedGroup !== undefined);
  const tmpDecode = w.generate > 1 ? layerTmpElements(plan, B, 1, decodeKeys, gathered) * bb : 0;
  const tmpHead = (N * d + N * V) * bb;
  let tmp = Math.max(tmpLayer, tmpDecode, tmpHead);
  const largestLinear = Math.max(...linears.map((m) => m.out * m.in));
  if (train) {
    // Backward: the largest weight gradient is born in tmp before it moves to grad, beside the
    // logits gradient and a few activation gradients.
    const largest = Math.max(V * d, largestLinear) * 4;
    tmp = Math.max(tmp, largest + (N * V + 2 * N * Math.max(d, arch.ffnHidden)) * bb);
    exact.tmp = false;
    notes.push(
      "tmp in training: forward working set, or backward's largest weight gradient + logits and activation gradients (approximate)",
    );
  }
  // The backend's matmul workspace for its largest product: the head, the FFN's up projection, or
  // a product the attention strategy runs through the backend. A backend that keeps weights in its
  // own memory copies only the activation operands.
  const attnShape = { batch: B, heads: H, kvHeads: Hkv, tq: T, tk: T, headDim: D };
  const weightCopied = plan.backend.residentWeights ? 0 : 1;
  const operands = Math.max(
    N * d + weightCopied * V * d + N * V,
    N * d + weightCopied * arch.ffnHidden * d + N * arch.ffnHidden,
    plan.attention.matmulOperandElements(attnShape),
  );
  const backendTmp = plan.backend.matmulWorkspaceBytes(operands);
  if (backendTmp > 0) {
    tmp += backendTmp;
    exact.tmp = false;
    if (plan.backend.note) notes.push(plan.backend.note);
  }
  const weightTmp = plan.weights.workspaceElements(arch.ffnHidden, d) * 4;
  if (weightTmp > 0) {
    tmp += weightTmp;
    exact.tmp = false;
    if (plan.weights.workspaceNote) notes.push(plan.weights.workspaceNote);
  }
  if (!train) {
    exact.tmp = exact.tmp && plan.attention.exactTmp && arch.experts <= 1;
    if (!exact.tmp)
      notes.push("tmp: the attention kernel's or the experts' workspace is modelled, not traced");
  }

  // FLOPs: 2 per multiply-add over active linear weights, attention scores and values, the head.
  const activeLinear = params.active - params.embedding;
  const perTokenLinear = 2 * activeLinear + 2 * d * V;
  // Per layer group: scores over q·k dims (MLA: nope + rope) and values over V's; a decode step
  // scores the keys its layer holds (a windowed layer's rolling buffer).
  const attnFlops = (tq: number, tk: number) =>
    groups.reduce(
      (s, g) =>
        s +
        g.layers *
          2 *
          B *
          H *
          (qkHeadDim(arch) + D) *
          tq *
          plan.attention.keysPerQuery(tq, tq > 1 ? tk : cachedTokens(g, tk)),
      0,
    );
  const attentionPrefill = attnFlops(T, T);
  const cap = arch.logitSoftcap;
  if (cap && (cap.attention !== undefined || cap.final !== undefined)) {
    const parts = [
      cap.attention === undefined ? "" : `attention scores at ${cap.attention}`,
      cap.final === undefined ? "" : `final logits at ${cap.final}`,
    ].filter((p) => p !== "");
    notes.push(`flops: tanh soft-capping of ${parts.join(" and ")} is elementwise and not counted`);
  }
  const prefill = N * perTokenLinear + attentionPrefill;
  const ctx = w.seq + Math.max(1, w.generate);
  const decodePerToken = B * perTokenLinear + attnFlops(1, ctx);
  // A training step is forward + backward (2×) plus one more forward of every recomputed layer.
  const recompute = segments.flat().length / L;
  const trainStep = prefill * (3 + recompute);
  const weightRead = weights + adapters;
  const kvPerToken = B * kvBytesFor(ctx, (t) => t);
  // A decode step reads every weight once — but of each MoE layer's routed experts only the distinct
  // ones its B tokens choose: E·(1 − (1 − k/E)^B) under uniform routing (shared experts always).
  const E = arch.experts;
  const expertBytes = linears
    .filter((m) => m.ffn === "routed")
    .reduce((sum, m) => sum + plan.weights.bytesFor(m.out, m.in), 0);
  const expertsRead = E > 1 ? E * (1 - (1 - Math.min(arch.topK, E) / E) ** B) : E;
  const decodeWeightRead = weightRead - expertLayerCount(arch) * (E - expertsRead) * expertBytes;
  if (E > 1 && !train)
    notes.push(
      `decode bytes: ${expertsRead.toFixed(2)} of ${E} routed experts read per layer at batch ${B} (uniform routing)`,
    );

  const bytes = { weights, adapters, kv, act, grad: gradBytes, optim, tmp } as Record<Category, number>;
  return {
    model: arch.name,
    config: label,
    workload: w,
    params,
    bytes,
    totalBytes: CATEGORIES.reduce((s, c) => s + bytes[c], 0),
    flops: { prefill, decodePerToken, trainStep, attentionPrefill },
    bytesMoved: {
      prefill: weightRead + N * kvBytesFor(1, (t) => t),
      decodePerToken: decodeWeightRead + kvPerToken,
      trainStep: 3 * weightRead,
    },
    exact,
    notes,
    plan,
  };
}
