/**
 * The analytic estimator: for an architecture, a configuration's plan and a workload, parameter
 * counts (total and active), bytes per ledger category, FLOPs and bytes moved. The formulas mirror
 * what `Transformer` allocates, so for executable presets they are checked against the ledger;
 * for published presets they are the same formulas at that scale (activations at `baseBytes`).
 */

import { predictPeakAct } from "@tradeoffs/checkpoint";
import {
  type ArchSpec,
  CATEGORIES,
  type Category,
  type Configuration,
  type Plan,
  type WorkloadSpec,
} from "@tradeoffs/core-tensor";
import { TILE_ELEMENTS } from "@tradeoffs/quant";
import { basePlan, type PlanOptions } from "./plan.js";
import { getPreset, type PresetName } from "./presets.js";
import { filled } from "./registry.js";

/**
 * The WASM GEMM's packing scratch per thread: a 128×256 panel of A and a 256×2048 panel of B in
 * f32 (packages/core-tensor/assembly/gemm.ts: MC, KC, NC), and the two threads it splits over.
 */
const WASM_GEMM_SCRATCH = (128 * 256 + 256 * 2048) * 4;
const WASM_THREADS = 2;

export interface ParamCounts {
  readonly total: number;
  /** Parameters touched per token (top-k experts + shared + everything else). */
  readonly active: number;
  /** Parameters that receive gradients in training (adapters only with LoRA). */
  readonly trainable: number;
  /** Of which: embeddings + head + norms (+ positions). */
  readonly embedding: number;
  readonly attention: number;
  readonly ffn: number;
  readonly adapters: number;
}

export interface Estimate {
  readonly model: string;
  readonly config: string;
  readonly workload: WorkloadSpec;
  readonly params: ParamCounts;
  /** Peak bytes per ledger category over the workload (estimate). */
  readonly bytes: Readonly<Record<Category, number>>;
  /** Sum of the category peaks (an upper bound on the total peak). */
  readonly totalBytes: number;
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
  readonly notes: readonly string[];
  readonly plan: Plan;
}

/** One linear matrix of a layer: [out, in], its role, and how many copies a layer holds (experts). */
interface LinearMatrix {
  readonly out: number;
  readonly in: number;
  readonly role: string;
  readonly copies: number;
  readonly part: "attn" | "ffn";
}

/** The linear matrices of one layer: attention q, k, v, o and the FFN's, once per routed or shared expert. */
function linears(arch: ArchSpec): LinearMatrix[] {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: D, ffnHidden: F } = arch;
  const experts = arch.experts + arch.sharedExperts;
  const attn = (role: string, out: number, inp: number): LinearMatrix => ({
    out,
    in: inp,
    role,
    copies: 1,
    part: "attn",
  });
  const ffn = (role: string, out: number, inp: number): LinearMatrix => ({
    out,
    in: inp,
    role,
    copies: experts,
    part: "ffn",
  });
  return [
    attn("q", H * D, d),
    attn("k", Hkv * D, d),
    attn("v", Hkv * D, d),
    attn("o", d, H * D),
    ...(arch.ffnKind === "swiglu" ? [ffn("gate", F, d), ffn("up", F, d)] : [ffn("up", F, d)]),
    ffn("down", d, F),
  ];
}

/** Σ over one layer's linear matrices (each expert copy counted) of `f(matrix)`. */
function perLayer(arch: ArchSpec, f: (m: LinearMatrix) => number): number {
  return linears(arch).reduce((s, m) => s + m.copies * f(m), 0);
}

/** Parameter counts derived from the architecture (and adapters from the plan). */
export function countParams(plan: Plan): ParamCounts {
  const arch = plan.arch;
  const { dModel: d, vocab: V, layers: L, experts: E, topK: k, sharedExperts: S } = arch;
  const normSize = arch.norm === "layernorm" ? 2 * d : d;
  const part = (p: LinearMatrix["part"]) => linears(arch).filter((m) => m.part === p);
  const size = (ms: LinearMatrix[]) => ms.reduce((s, m) => s + m.out * m.in + (arch.biases ? m.out : 0), 0);
  const attnPer = size(part("attn"));
  const expertPer = size(part("ffn"));
  const router = E > 1 ? d * E : 0;
  const embedding =
    V * d +
    (arch.tiedEmbeddings ? 0 : V * d) +
    (arch.positional === "learned" ? arch.maxSeq * d : 0) +
    normSize * (2 * L + 1);
  const ffnTotal = L * ((E + S) * expertPer + router);
  const ffnActive = L * ((Math.min(k, E) + S) * expertPer + router);
  const targets = plan.adapters?.targets ?? [];
  const rank = plan.adapters?.rank ?? 0;
  const adapters = L * perLayer(arch, (m) => (targets.includes(m.role) ? rank * (m.out + m.in) : 0));
  const total = embedding + L * attnPer + ffnTotal;
  const linearParams = L * perLayer(arch, (m) => m.out * m.in);
  return {
    total,
    active: embedding + L * attnPer + ffnActive,
    trainable: plan.adapters ? adapters : linearsTrainable(plan) ? total : total - linearParams,
    embedding,
    attention: L * attnPer,
    ffn: ffnTotal,
    adapters,
  };
}

/** Bytes of the linear weights in blocks under the plan's weight format (exact when it says `bytesFor`). */
function linearWeightBytes(plan: Plan): number {
  const bytes = (m: LinearMatrix) =>
    plan.weights.bytesFor?.(m.out, m.in) ?? Math.ceil((m.out * m.in * plan.weights.bitsPerWeight) / 8);
  return plan.arch.layers * perLayer(plan.arch, bytes);
}

/**
 * Elements one layer saves for backward in `Transformer`, for batch × seq tokens: attention-norm
 * input and rstd, normed h, rotated q, k and v, the attention's own saves (Standard: probabilities
 * B·H·T²; Flash: output and log-sum-exp), merged heads, FFN-norm input and rstd, normed h2, and the
 * FFN's saves.
 */
export function layerActElements(plan: Plan, batch: number, seq: number): number {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: D, ffnHidden: F } = plan.arch;
  const N = batch * seq;
  const attention = plan.attention.kind === "flash" ? N * H * D + batch * H * seq : batch * H * seq * seq;
  // A linear layer's input is saved only when its weight (or an adapter on it) needs a gradient.
  const grads = (...roles: string[]) =>
    linearsTrainable(plan) || roles.some((r) => plan.adapters?.targets.includes(r));
  const rank = plan.adapters?.rank ?? 0;
  const adapted = ["q", "k", "v", "o", "gate", "up", "down"].filter((r) =>
    plan.adapters?.targets.includes(r),
  ).length;
  const dense = plan.arch.experts <= 1;
  return (
    N * (d + 1) + // attention norm: input and rstd
    (grads("q", "k", "v") ? N * d : 0) + // normed h, input of q/k/v
    N * H * D + // rotated q
    2 * N * Hkv * D + // rotated k, v
    attention +
    (grads("o") ? N * H * D : 0) + // merged heads, input of o
    N * (d + 1) + // FFN norm: input and rstd
    (dense && grads("gate", "up") ? N * d : 0) + // normed h2
    ffnActElements(plan, N) -
    (dense && !grads("down") ? N * F : 0) + // the product, input of down
    adapted * N * rank // each adapter's rank-r intermediate
  );
}

/** Whether the linear layers' own weights receive gradients (FP32, or a trainable base format). */
export function linearsTrainable(plan: Plan): boolean {
  return !plan.adapters && (plan.weights.format === "FP32" || plan.weights.trainable === true);
}

/** FFN activations saved per layer: SwiGLU gate, silu(gate), up and their product (4·N·F) per token routed. */
export function ffnActElements(plan: Plan, N: number): number {
  const { ffnHidden: F, experts: E, topK: k, sharedExperts: S, dModel: d } = plan.arch;
  if (E <= 1) return (plan.arch.ffnKind === "swiglu" ? 4 : 2) * N * F;
  // Routed: router logits and probabilities (2·N·E); per routed token the gathered input, the four
  // SwiGLU tensors and the gate-scaled output; shared experts as dense. Frozen experts save neither
  // their gathered input nor the product that feeds `down`.
  const routed = N * Math.min(k, E);
  const frozen = !linearsTrainable(plan);
  return 2 * N * E + routed * (4 * F + 2 * d) - (frozen ? routed * (d + F) : 0) + S * 4 * N * F;
}

/**
 * Head activations saved in training: final-norm input + rstd, normed h (when the head trains),
 * logits, plus i32 ids and targets.
 */
export function headActBytes(plan: Plan, N: number): number {
  const { dModel: d, vocab: V } = plan.arch;
  const headTrains = !plan.adapters;
  return (N * (d + 1) + (headTrains ? N * d : 0) + N * V) * plan.baseBytes + 2 * N * 4;
}

/**
 * Largest set of simultaneously live temporaries in one layer's inference forward (elements),
 * following `Transformer`'s order of allocation and disposal: projections, head split and RoPE,
 * the cache read (decode), attention (Standard: scores and probabilities; Flash: output, log-sum-exp
 * and one tile), the output projection, and the FFN (x, x2, normed input, silu(gate), up, product).
 */
export function layerTmpElements(plan: Plan, batch: number, tq: number, tk: number): number {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: D, ffnHidden: F, experts: E, topK: k } = plan.arch;
  const N = batch * tq;
  const A = N * H * D;
  const K = N * Hkv * D;
  const cacheRead = tk > tq ? 2 * batch * Hkv * tk * D : 0; // decode gathers K and V from the cache
  const inner =
    plan.attention.kind === "flash"
      ? A + batch * H * tq + plan.attention.blockQ * plan.attention.blockK
      : 2 * batch * H * tq * tk;
  const width = E > 1 ? Math.min(k, E) : 1;
  return Math.max(
    2 * N * d + A + 2 * K, // normed h with the three projections
    N * d + 2 * A + 2 * K, // q split into heads before RoPE
    N * d + A + 3 * K, // k split and rotated
    N * d + A + 2 * K + cacheRead + inner, // attention
    3 * N * d + 3 * N * F * width, // FFN: x, x2, h2, silu(gate), up, product
    4 * N * d + N * F * width, // FFN output beside the residuals
  );
}

export interface EstimateOptions extends PlanOptions {
  /** Fill empty slots with the executable baselines (true for tiny/small, false for published). */
  readonly fillBaselines?: boolean;
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
  const config = fill ? filled(configuration) : configuration;
  const plan = config.plan(
    basePlan(arch, workload, { baseBytes: options.baseBytes ?? (executable ? 4 : 2), ...options }),
  );
  return estimatePlan(plan, config.label);
}

/** The estimate for a fully formed plan. */
export function estimatePlan(plan: Plan, label: string): Estimate {
  const arch = plan.arch;
  const w = plan.workload;
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: D, layers: L, vocab: V } = arch;
  const bb = plan.baseBytes;
  const params = countParams(plan);
  const notes = [...plan.notes];
  const linearParams = L * perLayer(arch, (m) => m.out * m.in);
  const weights = linearWeightBytes(plan) + (params.total - linearParams) * bb;
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

  // KV cache: contiguous reserves prompt + generate per sequence; paged rounds up to blocks.
  let kv = 0;
  if (!train) {
    const tokens = w.seq + w.generate;
    const reserved =
      plan.kv.memory === "paged" && plan.kv.block > 0
        ? Math.ceil(tokens / plan.kv.block) * plan.kv.block
        : tokens;
    kv = B * reserved * L * Hkv * 2 * (D * plan.kv.bytesPerElement + plan.kv.scaleBytesPerVector);
  }

  // Activations saved for backward.
  let act = 0;
  if (train) {
    const perLayer = layerActElements(plan, B, T) * bb;
    const inputBytes = N * d * bb;
    const segments = plan.checkpoint.segments?.(L, perLayer, inputBytes, headActBytes(plan, N)) ?? [];
    const inSeg = new Set(segments.flat());
    const kept = (L - inSeg.size) * perLayer + segments.length * inputBytes;
    // End of forward: everything kept plus the head; during backward the head is gone and one
    // segment at a time is recomputed (the checkpoint package's memory model).
    act = Math.max(
      kept + headActBytes(plan, N),
      segments.length > 0 ? predictPeakAct(L, perLayer, inputBytes, segments) : 0,
    );
    if (segments.length > 0) {
      exact.act = false;
      notes.push(
        "act with checkpointing: predicted by the checkpoint memory model (over by at most one layer input)",
      );
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
  const gradBytes = train ? params.trainable * (bb === 2 ? 2 : 4) : 0;
  const optim = train ? params.trainable * (bb === 2 ? 12 : 8) : 0;
  if (train && bb === 2)
    notes.push(
      "mixed precision: fp16 grads; fp32 master weights and Adam moments counted in optim (12 B/param)",
    );

  // Temporaries: the largest layer working set, or the head (normed h and logits).
  const tmpLayer = layerTmpElements(plan, B, T, T) * bb;
  const tmpDecode = w.generate > 1 ? layerTmpElements(plan, B, 1, w.seq + w.generate) * bb : 0;
  const tmpHead = (N * d + N * V) * bb;
  let tmp = Math.max(tmpLayer, tmpDecode, tmpHead);
  if (train) {
    // Backward: the largest weight gradient is born in tmp before it moves to grad, beside the
    // logits gradient and a few activation gradients.
    const largest = Math.max(V * d, ...linears(arch).map((m) => m.out * m.in)) * 4;
    tmp = Math.max(tmp, largest + (N * V + 2 * N * Math.max(d, arch.ffnHidden)) * bb);
    exact.tmp = false;
    notes.push(
      "tmp in training: forward working set, or backward's largest weight gradient + logits and activation gradients (approximate)",
    );
  }
  if (plan.backend === "WASM") {
    // Each WASM matmul copies its operands into WebAssembly memory and packs panels there, charged
    // to tmp/wasm while it runs: the largest product's operands plus the packing scratch.
    const { ffnHidden: F, heads: H, headDim: D, kvHeads: Hkv } = arch;
    const scores = plan.attention.kind === "standard" ? B * H * T * D + B * Hkv * T * D + B * H * T * T : 0;
    const operands = Math.max(N * d + V * d + N * V, N * d + F * d + N * F, scores) * 4;
    tmp += operands + WASM_THREADS * WASM_GEMM_SCRATCH;
    exact.tmp = false;
    notes.push(
      "tmp on WASM: plus the largest matmul's operands copied into WebAssembly memory and the packing scratch",
    );
  }
  const packed = plan.weights.format !== "FP32" && plan.weights.bytesFor !== undefined;
  if (packed) {
    tmp += Math.min(TILE_ELEMENTS, arch.ffnHidden * d) * 4; // one dequantised tile at a time
    exact.tmp = false;
    notes.push("tmp with packed weights: one dequantised tile (≤ 64Ki weights) beside the working set");
  }
  if (!train) {
    exact.tmp = exact.tmp && plan.attention.kind === "standard" && arch.experts <= 1;
    if (!exact.tmp)
      notes.push("tmp: the attention kernel's or the experts' workspace is modelled, not traced");
  }

  // FLOPs: 2 per multiply-add over active linear weights, attention scores and values, the head.
  const activeLinear = params.active - params.embedding;
  const perTokenLinear = 2 * activeLinear + 2 * d * V;
  // Standard computes every score; Flash skips key blocks entirely above the causal diagonal.
  const keysPerQuery = (tq: number, tk: number) =>
    plan.attention.kind === "flash" && tq > 1 ? Math.min(tk, (tk + 1) / 2 + plan.attention.blockK / 2) : tk;
  const attnFlops = (tq: number, tk: number) => L * 4 * B * H * D * tq * keysPerQuery(tq, tk);
  const attentionPrefill = attnFlops(T, T);
  const prefill = N * perTokenLinear + attentionPrefill;
  const ctx = w.seq + Math.max(1, w.generate);
  const decodePerToken = B * perTokenLinear + attnFlops(1, ctx);
  const recompute = (() => {
    const segs = plan.checkpoint.segments?.(L, 1, 1) ?? [];
    return segs.flat().length / L;
  })();
  const trainStep = prefill * (3 + recompute);
  const weightRead = weights + adapters;
  const kvPerToken = B * ctx * L * Hkv * 2 * (D * plan.kv.bytesPerElement + plan.kv.scaleBytesPerVector);

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
      prefill: weightRead + N * L * Hkv * 2 * D * plan.kv.bytesPerElement,
      decodePerToken: weightRead + kvPerToken,
      trainStep: 3 * weightRead,
    },
    exact,
    notes,
    plan,
  };
}
