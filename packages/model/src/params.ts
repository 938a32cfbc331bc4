/**
 * An architecture's parameters, matrix by matrix: every linear layer of the model with its shape,
 * role and copies over the whole model (attention or MLA projections per layer; routed and shared
 * experts in MoE layers; dense FFNs in dense layers), and the parameter counts derived from them.
 * Not here: bytes, FLOPs and the KV cache (estimator.ts, kv-layout.ts).
 */
import type { ArchSpec, Plan } from "@tradeoffs/core-tensor";
import { linearsTrainable } from "./layer-tensors.js";

/** One linear matrix: [out, in], its role, and how many copies the whole model holds. */
export interface LinearMatrix {
  /** Output features (rows). */
  readonly out: number;
  /** Input features (columns). */
  readonly in: number;
  /** `q`, `k`, `v`, `o`; MLA's `q_a`, `q_b`, `kv_a`, `kv_b`; the FFN's `gate`, `up`, `down`. */
  readonly role: string;
  /** Copies over the whole model (layers × experts). */
  readonly copies: number;
  /** Attention or feed-forward (the ledger's `weights/attn` and `weights/ffn`). */
  readonly part: "attn" | "ffn";
  /** Which FFN a matrix belongs to: routed experts (read only when chosen), shared, or dense. */
  readonly ffn?: "routed" | "shared" | "dense";
  /** The matrix carries a bias of `out` elements. */
  readonly bias: boolean;
}

/** A model's parameters under a plan: totals, per token, trainable, and by part. */
export interface ParamCounts {
  /** Parameters of the model itself: embedding + attention + FFN (adapters are counted in `adapters`). */
  readonly total: number;
  /** Parameters touched per token (top-k experts + shared + everything else). */
  readonly active: number;
  /** Parameters that receive gradients in training (adapters only with LoRA). */
  readonly trainable: number;
  /** Of which: embeddings + head + norms (+ positions). */
  readonly embedding: number;
  /** Attention projections with their biases (and MLA's latent norms). */
  readonly attention: number;
  /** FFNs: experts, routers and shared-expert gates. */
  readonly ffn: number;
  /** Adapter (LoRA) parameters; 0 without adapters. */
  readonly adapters: number;
}

/** Layers whose FFN is dense in an MoE model (`denseLayers`, default 0). */
export function denseLayerCount(arch: ArchSpec): number {
  return arch.experts > 1 ? (arch.denseLayers ?? 0) : 0;
}

/** Layers with the architecture's main FFN: `experts` routed + `sharedExperts` shared of `ffnHidden`. */
export function expertLayerCount(arch: ArchSpec): number {
  return arch.layers - denseLayerCount(arch);
}

/** Per-head dims of q and k (MLA: nope + rope; otherwise `headDim`). */
export function qkHeadDim(arch: ArchSpec): number {
  return arch.mla ? arch.mla.nopeHeadDim + arch.mla.ropeHeadDim : arch.headDim;
}

/** One layer's attention matrices (copies = 1). */
function attentionMatrices(arch: ArchSpec): LinearMatrix[] {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: D } = arch;
  const b = arch.biases;
  const qkv = b || arch.qkvBias === true;
  const m = (role: string, out: number, inp: number, bias: boolean): LinearMatrix => ({
    out,
    in: inp,
    role,
    copies: 1,
    part: "attn",
    bias,
  });
  const o = m("o", d, H * D, b);
  const mla = arch.mla;
  if (!mla) return [m("q", H * D, d, qkv), m("k", Hkv * D, d, qkv), m("v", Hkv * D, d, qkv), o];
  // DeepSeek-V2 (modeling_deepseek.py): q_proj d → H·(nope+rope), or q_a_proj d → qRank and
  // q_b_proj qRank → H·(nope+rope); kv_a_proj_with_mqa d → kvRank + rope; kv_b_proj kvRank → H·(nope+v).
  const qOut = H * qkHeadDim(arch);
  const q =
    mla.qLoraRank === undefined
      ? [m("q", qOut, d, qkv)]
      : [m("q_a", mla.qLoraRank, d, qkv), m("q_b", qOut, mla.qLoraRank, qkv)];
  return [
    ...q,
    m("kv_a", mla.kvLoraRank + mla.ropeHeadDim, d, qkv),
    m("kv_b", H * (mla.nopeHeadDim + D), mla.kvLoraRank, qkv),
    o,
  ];
}

/** One FFN of width `hidden` (gated: gate, up, down; GELU: up, down) with `copies` copies. */
function ffnMatrices(
  arch: ArchSpec,
  hidden: number,
  copies: number,
  ffn: "routed" | "shared" | "dense",
): LinearMatrix[] {
  const d = arch.dModel;
  const m = (role: string, out: number, inp: number): LinearMatrix => ({
    out,
    in: inp,
    role,
    copies,
    part: "ffn",
    ffn,
    bias: arch.biases,
  });
  const inputs =
    arch.ffnKind === "swiglu" ? [m("gate", hidden, d), m("up", hidden, d)] : [m("up", hidden, d)];
  return [...inputs, m("down", d, hidden)];
}

/**
 * Every linear matrix of the model, with copies over all layers: attention in every layer; in the
 * expert layers `experts` routed FFNs and `sharedExperts` shared ones of `ffnHidden`; in the dense
 * layers of an MoE model one FFN of `denseFfnHidden`. Matrices with no copies are left out.
 */
export function modelLinears(arch: ArchSpec): LinearMatrix[] {
  const L = arch.layers;
  const Le = expertLayerCount(arch);
  const Ld = denseLayerCount(arch);
  const all = [
    ...attentionMatrices(arch).map((m) => ({ ...m, copies: L })),
    ...ffnMatrices(arch, arch.ffnHidden, Le * arch.experts, "routed"),
    ...ffnMatrices(arch, arch.ffnHidden, Le * arch.sharedExperts, "shared"),
    ...ffnMatrices(arch, arch.denseFfnHidden ?? arch.ffnHidden, Ld, "dense"),
  ];
  return all.filter((m) => m.copies > 0);
}

/** One layer's linear matrices as a dense layer of the architecture holds them (copies per layer). */
export function layerLinears(arch: ArchSpec): LinearMatrix[] {
  const L = arch.layers;
  return modelLinears(arch).map((m) => ({ ...m, copies: m.copies / L }));
}

/** Σ over the model's linear matrices (each copy counted) of `f(matrix)`. */
export function sumLinears(arch: ArchSpec, f: (m: LinearMatrix) => number): number {
  return sumMatrices(modelLinears(arch), f);
}

/** Σ copies · f(m) over matrices already listed by `modelLinears` (for a caller that reads them more than once). */
export function sumMatrices(linears: readonly LinearMatrix[], f: (m: LinearMatrix) => number): number {
  return linears.reduce((s, m) => s + m.copies * f(m), 0);
}

/** Linear weights of the model (no biases). */
export function linearParams(arch: ArchSpec): number {
  return sumLinears(arch, (m) => m.out * m.in);
}

/** Parameter counts derived from the architecture (and adapters from the plan). */
export function countParams(plan: Plan): ParamCounts {
  const arch = plan.arch;
  const { dModel: d, vocab: V, layers: L, experts: E, topK: k, sharedExperts: S } = arch;
  const Le = expertLayerCount(arch);
  const normSize = arch.norm === "layernorm" ? 2 * d : d;
  const size = (m: LinearMatrix) => m.out * m.in + (m.bias ? m.out : 0);
  const attnNorms = arch.mla ? L * (arch.mla.kvLoraRank + (arch.mla.qLoraRank ?? 0)) : 0;
  const linears = modelLinears(arch);
  const sum = (pick: (m: LinearMatrix) => boolean, copies = (m: LinearMatrix) => m.copies) =>
    linears.filter(pick).reduce((s, m) => s + copies(m) * size(m), 0);
  const embedding =
    V * d +
    (arch.tiedEmbeddings ? 0 : V * d) +
    (arch.positional === "learned" ? arch.maxSeq * d : 0) +
    normSize * ((arch.layerNorms ?? 2) * L + 1);
  const attention = sum((m) => m.part === "attn") + attnNorms;
  // Per expert layer: a router (d → E) and, with a gated shared expert, its d → 1 gate.
  const routing = Le * ((E > 1 ? d * E : 0) + (arch.sharedExpertGate && S > 0 ? d : 0));
  const ffnTotal = sum((m) => m.part === "ffn") + routing;
  // Routed copies are Le·E: each token touches min(k, E) of each layer's E.
  const ffnActive = sum(
    (m) => m.part === "ffn",
    (m) => (m.ffn === "routed" ? (m.copies / E) * Math.min(k, E) : m.copies),
  );
  const targets = plan.adapters?.targets ?? [];
  const rank = plan.adapters?.rank ?? 0;
  const adapters = sumLinears(arch, (m) => (targets.includes(m.role) ? rank * (m.out + m.in) : 0));
  const total = embedding + attention + ffnTotal;
  return {
    total,
    active: embedding + attention + ffnActive + routing,
    trainable: plan.adapters ? adapters : linearsTrainable(plan) ? total : total - linearParams(arch),
    embedding,
    attention,
    ffn: ffnTotal,
    adapters,
  };
}
