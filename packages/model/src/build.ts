/**
 * Building a model's parts from a configuration: each slot's executable part, then every weight —
 * given (trained or converted) or initialised from a seeded RNG — packed by the `weights` slot,
 * wrapped by `adapters`, under its ledger category. A failure frees everything built so far.
 * Not here: running the model (transformer.ts, layer.ts).
 */
import {
  type ArchSpec,
  type Configuration,
  clone,
  type HeadsExec,
  type LinearWeight,
  ones,
  type Plan,
  Rng,
  randn,
  rootCategory,
  ShapeError,
  type SlotExec,
  type Tensor,
  ValueError,
  withBackend,
} from "@tradeoffs/core-tensor";
import { Layer } from "./layer.js";
import { basePlan } from "./plan.js";
import { getPreset, type PresetName } from "./presets.js";
import { filled } from "./registry.js";
import { storedKvHeads, type WeightMap, weightName } from "./weight-names.js";

/**
 * Options of `Transformer.create`: a seed, weights to load, and how to convert weights whose shape differs.
 */
export interface TransformerOptions {
  /** Seed for random initialisation of anything `weights` does not provide. Default 0. */
  readonly seed?: number;
  /**
   * Weights by name (as `namedTensors()` names them) to load instead of random ones; missing entries are
   * initialised from `seed`.
   */
  readonly weights?: WeightMap;
  /**
   * Convert weights whose shape differs from what the configuration needs. Default: K/V projections
   * stored for more heads (an MHA checkpoint) go through the heads strategy's `convertKv`
   * (mean-pooled groups, as in the GQA paper). Returns a new tensor or null. Experts missing from `weights` are upcycled from the dense
   * FFN's matrices of the same layer.
   */
  readonly convert?: (
    name: string,
    stored: Tensor,
    shape: readonly [number, number],
    arch: ArchSpec,
  ) => Tensor | null;
}

/** Every slot's executable part (`adapters` absent when the configuration sets none). */
export type SlotExecs = { [S in keyof SlotExec]: SlotExec[S] };

/** What a `Transformer` is made of. */
export interface ModelParts {
  readonly arch: ArchSpec;
  readonly config: Configuration;
  readonly plan: Plan;
  readonly embed: Tensor;
  readonly norm: Tensor;
  readonly head: Tensor | null;
  readonly layers: Layer[];
  readonly exec: SlotExecs;
}

const ATTN = "weights/attn";
const FFN = "weights/ffn";
const INIT_STD = 0.02;

/** The executable part of every slot of a filled configuration. */
function slotExecs(config: Configuration): SlotExecs {
  const need = <S extends keyof SlotExec>(slot: S): SlotExec[S] => {
    const s = config.get(slot);
    if (!s) throw new ValueError(`configuration has no '${slot}' strategy`);
    return s.exec;
  };
  return {
    backend: need("backend"),
    attention: need("attention"),
    heads: need("heads"),
    weights: need("weights"),
    adapters: config.get("adapters")?.exec as SlotExec["adapters"],
    checkpoint: need("checkpoint"),
    ffn: need("ffn"),
    "kv-dtype": need("kv-dtype"),
    "kv-memory": need("kv-memory"),
  };
}

/**
 * Given weights by name: the stored tensor when its shape matches, a converted one when `convert`
 * knows how (a new tensor the caller frees) — by default K/V projections stored for more heads
 * go through the heads strategy's `convertKv` — or a ShapeError naming both shapes.
 */
function givenWeights(options: TransformerOptions, arch: ArchSpec, heads: HeadsExec) {
  const byLayout = (name: string, stored: Tensor, shape: readonly [number, number]): Tensor | null => {
    const fromHeads = storedKvHeads(name, stored, shape, arch);
    return fromHeads === null ? null : heads.convertKv(stored, fromHeads, arch.heads, arch.headDim);
  };
  return (name: string, shape: readonly number[]): Tensor | null => {
    const t = options.weights?.get(name);
    if (!t) return null;
    if (t.shape.join() === shape.join()) return t;
    const convert = options.convert ?? byLayout;
    const converted = shape.length === 2 ? convert(name, t, shape as [number, number], arch) : null;
    if (converted) return converted;
    throw new ShapeError(
      "Transformer.create",
      `weight '${name}' is [${t.shape}], the configuration needs [${shape}]`,
      { name },
    );
  };
}

/**
 * What an architecture asks for that the executable model does not compute (it runs Llama-style
 * layers: RMSNorm, RoPE, SwiGLU, no biases, two norms per layer, one window for every layer). The
 * estimator models these fields; running them here would silently compute a different model.
 */
function notExecutable(arch: ArchSpec): string[] {
  const out: string[] = [];
  if (arch.ffnKind !== "swiglu") out.push(`ffnKind ${arch.ffnKind} (runs: swiglu)`);
  if (arch.norm !== "rmsnorm") out.push(`norm ${arch.norm} (runs: rmsnorm)`);
  if (arch.positional !== "rope") out.push(`positional ${arch.positional} (runs: rope)`);
  if (arch.biases) out.push("biases");
  if (arch.qkvBias) out.push("qkvBias");
  if (arch.layerNorms !== undefined && arch.layerNorms !== 2)
    out.push(`layerNorms ${arch.layerNorms} (runs: 2)`);
  if (arch.denseLayers) out.push(`denseLayers ${arch.denseLayers}`);
  if (arch.sharedExpertGate) out.push("sharedExpertGate");
  if (arch.mla) out.push("mla (multi-head latent attention)");
  if (arch.windowLayers !== undefined && arch.windowLayers !== arch.layers)
    out.push(`windowLayers ${arch.windowLayers} of ${arch.layers} (runs: one window on every layer)`);
  if (arch.logitSoftcap) out.push("logitSoftcap");
  return out;
}

/** Build every part of a model for a preset (or an architecture) and a configuration. */
export function buildParts(
  model: PresetName | ArchSpec,
  configuration: Configuration,
  options: TransformerOptions,
): ModelParts {
  const base = typeof model === "string" ? getPreset(model).arch : model;
  const unsupported = notExecutable(base);
  if (unsupported.length > 0)
    throw new ValueError(
      `Transformer.create: ${base.name} needs what the executable model does not compute: ${unsupported.join(", ")}; estimate it instead`,
      { unsupported },
    );
  const problems = configuration.check({ arch: base });
  if (problems.length > 0)
    throw new ValueError(`${configuration.label} on ${base.name}: ${problems.join("; ")}`, { problems });
  const config = filled(configuration);
  const plan = config.plan(basePlan(base, { kind: "infer", batch: 1, seq: 1, generate: 0 }));
  const arch = plan.arch;
  const exec = slotExecs(config);
  const kvHeads = arch.kvHeads; // the heads strategy's plan() set it
  const rng = new Rng(options.seed ?? 0);
  const given = givenWeights(options, arch, exec.heads);
  const created: { dispose(): void }[] = [];
  // With adapters the whole base model is frozen: only the adapters train.
  const frozen = exec.adapters !== undefined;
  const f32Param = (name: string, shape: readonly number[], init: () => Tensor, category: string) => {
    const g = given(name, shape);
    const t = g ? clone(g, { category }) : init();
    created.push(t);
    if (!g) t.storage.recategorize(category);
    t.requiresGrad = !frozen;
    t.name = name;
    return t;
  };
  const linear = (name: string, role: string, out: number, inp: number, std: number, category: string) => {
    const g = given(name, [out, inp]);
    const w = g ?? randn([out, inp], rng, { std });
    let packed: LinearWeight;
    try {
      packed = exec.weights.pack(w, category);
    } finally {
      if (w !== options.weights?.get(name)) w.dispose(); // our own init or conversion
    }
    created.push(packed);
    if (exec.adapters?.targets.includes(role)) {
      const wrapped = exec.adapters.wrap(packed, role, rng);
      created[created.length - 1] = wrapped;
      packed = wrapped;
    }
    return packed;
  };
  try {
    return withBackend(exec.backend.backend, () => {
      const { dModel: d, heads: H, headDim: D, layers: L, vocab: V } = arch;
      const outStd = INIT_STD / Math.sqrt(2 * L);
      const embed = f32Param(
        weightName.embed,
        [V, d],
        () => randn([V, d], rng, { std: INIT_STD }),
        "weights/embed",
      );
      const layers: Layer[] = [];
      for (let i = 0; i < L; i++) {
        const attnNorm = f32Param(weightName.attnNorm(i), [d], () => ones([d]), "weights/norm");
        const q = linear(weightName.attn(i, "q"), "q", H * D, d, INIT_STD, ATTN);
        const k = linear(weightName.attn(i, "k"), "k", kvHeads * D, d, INIT_STD, ATTN);
        const v = linear(weightName.attn(i, "v"), "v", kvHeads * D, d, INIT_STD, ATTN);
        const o = linear(weightName.attn(i, "o"), "o", d, H * D, outStd, ATTN);
        const ffnNorm = f32Param(weightName.ffnNorm(i), [d], () => ones([d]), "weights/norm");
        const ffn = exec.ffn.create({
          dModel: d,
          hidden: arch.ffnHidden,
          weights: exec.weights,
          adapters: exec.adapters ?? null,
          rng,
          category: FFN,
          init: (name, shape) => {
            const own = given(weightName.ffn(i, name), shape);
            const upcycle = /^(?:experts|shared)\.\d+\.(gate|up|down)$/.exec(name);
            return own ?? (upcycle ? given(weightName.ffn(i, upcycle[1]!), shape) : null);
          },
        });
        created.push(ffn);
        layers.push(new Layer({ attnNorm, ffnNorm, q, k, v, o, ffn }));
      }
      const norm = f32Param(weightName.norm, [d], () => ones([d]), "weights/norm");
      const head = arch.tiedEmbeddings
        ? null
        : f32Param(weightName.head, [V, d], () => randn([V, d], rng, { std: INIT_STD }), "weights/head");
      if (frozen) {
        // Only tensors in the `adapters` category train.
        for (const l of layers)
          for (const p of l.parameters()) p.requiresGrad = rootCategory(p.storage.category) === "adapters";
      }
      return { arch, config, plan, embed, norm, head, layers, exec };
    });
  } catch (e) {
    for (const c of created) c.dispose();
    throw e;
  }
}
