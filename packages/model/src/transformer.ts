/**
 * A Llama-style decoder assembled from a configuration's slots: token embedding, per layer
 * RMSNorm → attention (RoPE, K/V heads from `heads`, kernel from `attention`, linears from `weights`
 * and `adapters`) → residual → RMSNorm → FFN (from `ffn`) → residual; final RMSNorm; LM head.
 * Runs forward, backward (via core autograd, with `checkpoint` segments) and incremental decoding
 * with the KV cache from `kv-memory` + `kv-dtype`. Embeddings, norms and the head stay f32.
 */
import {
  type ArchSpec,
  add,
  type Configuration,
  checkpoint,
  clone,
  crossEntropy,
  embedding,
  type FfnModule,
  type KvCache,
  type LinearWeight,
  matmul,
  ones,
  type Plan,
  Rng,
  randn,
  reshape,
  rmsNorm,
  rootCategory,
  rope,
  ShapeError,
  type SlotExec,
  scope,
  type Tensor,
  tensor,
  transpose,
  ValueError,
  withBackend,
} from "@tradeoffs/core-tensor";
import { meanPoolKvHeads } from "@tradeoffs/kv-cache";
import { headActBytes, layerActElements } from "./layer-tensors.js";
import { basePlan } from "./plan.js";
import { getPreset, type PresetName } from "./presets.js";
import { filled } from "./registry.js";

/** Initial or trained weights by Hugging Face Llama names (`model.layers.0.self_attn.q_proj.weight`). */
export type WeightMap = ReadonlyMap<string, Tensor>;

export interface TransformerOptions {
  /** Seed for random initialisation of anything `weights` does not provide. Default 0. */
  readonly seed?: number;
  readonly weights?: WeightMap;
  /**
   * Convert weights whose shape differs from what the configuration needs. Default: MHA K/V
   * projections are mean-pooled into the configured K/V heads (`meanPoolKvHeads`, as in the GQA
   * paper). Returns a new tensor or null. Experts missing from `weights` are upcycled from the dense
   * FFN's matrices of the same layer.
   */
  readonly convert?: (
    name: string,
    stored: Tensor,
    shape: readonly [number, number],
    arch: ArchSpec,
  ) => Tensor | null;
}

/**
 * Attention for one layer given this step's q [B, H, T, D] and k, v [B, Hkv, T, D]: store K/V where
 * the caller keeps them (a KV cache) and attend over everything cached. Must not dispose q, k, v.
 */
export type KvAttend = (layer: number, q: Tensor, k: Tensor, v: Tensor) => Tensor;

/** The default conversion: MHA K/V projection rows mean-pooled into fewer K/V heads. */
export function convertKvHeads(
  name: string,
  stored: Tensor,
  shape: readonly [number, number],
  arch: ArchSpec,
): Tensor | null {
  if (!/self_attn\.[kv]_proj\.weight$/.test(name) || stored.dim(1) !== shape[1]) return null;
  const fromHeads = stored.dim(0) / arch.headDim;
  if (!Number.isInteger(fromHeads) || fromHeads % arch.kvHeads !== 0) return null;
  return meanPoolKvHeads(stored, fromHeads, arch.kvHeads, arch.headDim);
}

const ATTN = "weights/attn";
const FFN = "weights/ffn";

export const weightName = {
  embed: "model.embed_tokens.weight",
  norm: "model.norm.weight",
  head: "lm_head.weight",
  attnNorm: (i: number) => `model.layers.${i}.input_layernorm.weight`,
  ffnNorm: (i: number) => `model.layers.${i}.post_attention_layernorm.weight`,
  attn: (i: number, p: "q" | "k" | "v" | "o") => `model.layers.${i}.self_attn.${p}_proj.weight`,
  ffn: (i: number, name: string) => {
    const m = /^(?:(.*)\.)?(gate|up|down)$/.exec(name);
    return m
      ? `model.layers.${i}.mlp.${m[1] ? `${m[1]}.` : ""}${m[2]}_proj.weight`
      : `model.layers.${i}.mlp.${name}.weight`;
  },
};

class Layer {
  readonly attnNorm: Tensor;
  readonly ffnNorm: Tensor;
  readonly q: LinearWeight;
  readonly k: LinearWeight;
  readonly v: LinearWeight;
  readonly o: LinearWeight;
  readonly ffn: FfnModule;

  constructor(parts: {
    attnNorm: Tensor;
    ffnNorm: Tensor;
    q: LinearWeight;
    k: LinearWeight;
    v: LinearWeight;
    o: LinearWeight;
    ffn: FfnModule;
  }) {
    this.attnNorm = parts.attnNorm;
    this.ffnNorm = parts.ffnNorm;
    this.q = parts.q;
    this.k = parts.k;
    this.v = parts.v;
    this.o = parts.o;
    this.ffn = parts.ffn;
  }

  /**
   * x [B, T, d] → [B, T, d]; attention through `kvAttend` (which stores K/V where the caller
   * keeps them). Intermediates are disposed as soon as they are dead, so `tmp` holds what the
   * estimator models (`layerTmpElements`); under autograd the saved ones live on as `act`.
   */
  forward(
    x: Tensor,
    arch: ArchSpec,
    positions: readonly number[],
    kvAttend: KvAttend,
    index: number,
  ): Tensor {
    return scope(() => {
      const [B, T] = x.shape as [number, number, number];
      const { heads: H, kvHeads: Hkv, headDim: D } = arch;
      const heads = (lin: Tensor, n: number, rotate: boolean): Tensor => {
        const split = reshape(lin, [B, T, n, D]); // a view: dispose it too, or it keeps lin alive
        const t = transpose(split, [0, 2, 1, 3]); // (B, n, T, D)
        split.dispose();
        lin.dispose();
        if (!rotate) return t;
        const r = rope(t, positions, arch.ropeTheta);
        t.dispose();
        return r;
      };
      const h = rmsNorm(x, this.attnNorm, arch.normEps); // (B, T, d)
      const ql = this.q.apply(h);
      const kl = this.k.apply(h);
      const vl = this.v.apply(h);
      h.dispose();
      const q = heads(ql, H, true); // (B, H, T, D)
      const k = heads(kl, Hkv, true); // (B, Hkv, T, D)
      const v = heads(vl, Hkv, false); // (B, Hkv, T, D)
      const o = kvAttend(index, q, k, v); // (B, H, T, D)
      q.dispose();
      k.dispose();
      v.dispose();
      const merged = transpose(o, [0, 2, 1, 3]); // (B, T, H, D)
      o.dispose();
      const flat = reshape(merged, [B, T, H * D]);
      const ao = this.o.apply(flat); // (B, T, d)
      flat.dispose();
      merged.dispose();
      const x2 = add(x, ao);
      ao.dispose();
      const h2 = rmsNorm(x2, this.ffnNorm, arch.normEps);
      const f = this.ffn.forward(h2);
      h2.dispose();
      const out = add(x2, f);
      f.dispose();
      x2.dispose();
      return out;
    });
  }

  parameters(): Tensor[] {
    return [
      this.attnNorm,
      ...this.q.parameters(),
      ...this.k.parameters(),
      ...this.v.parameters(),
      ...this.o.parameters(),
      this.ffnNorm,
      ...this.ffn.parameters(),
    ];
  }

  dispose(): void {
    for (const w of [this.q, this.k, this.v, this.o]) w.dispose();
    this.ffn.dispose();
    this.attnNorm.dispose();
    this.ffnNorm.dispose();
  }
}

export class Transformer {
  /** The architecture as configured (K/V heads and experts set by the strategies). */
  readonly arch: ArchSpec;
  /** The configuration with every slot filled (the label is the user's). */
  readonly config: Configuration;
  /** The configuration's plan for this architecture (what the estimator uses). */
  readonly plan: Plan;
  readonly embed: Tensor;
  readonly norm: Tensor;
  readonly head: Tensor | null;
  readonly layers: readonly Layer[];
  readonly #exec: { [S in keyof SlotExec]: SlotExec[S] };
  #disposed = false;

  private constructor(args: {
    arch: ArchSpec;
    config: Configuration;
    plan: Plan;
    embed: Tensor;
    norm: Tensor;
    head: Tensor | null;
    layers: Layer[];
    exec: { [S in keyof SlotExec]: SlotExec[S] };
  }) {
    this.arch = args.arch;
    this.config = args.config;
    this.plan = args.plan;
    this.embed = args.embed;
    this.norm = args.norm;
    this.head = args.head;
    this.layers = args.layers;
    this.#exec = args.exec;
  }

  /** Build a model for an executable preset (or an architecture) with a configuration. */
  static create(
    model: PresetName | ArchSpec,
    configuration: Configuration,
    options: TransformerOptions = {},
  ): Transformer {
    const base = typeof model === "string" ? getPreset(model).arch : model;
    const problems = configuration.check({ arch: base });
    if (problems.length > 0)
      throw new ValueError(`${configuration.label} on ${base.name}: ${problems.join("; ")}`, { problems });
    const config = filled(configuration);
    const plan = config.plan(basePlan(base, { kind: "infer", batch: 1, seq: 1, generate: 0 }));
    const arch = plan.arch;
    const need = <S extends keyof SlotExec>(slot: S): SlotExec[S] => {
      const s = config.get(slot);
      if (!s) throw new ValueError(`configuration has no '${slot}' strategy`);
      return s.exec;
    };
    const exec = {
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
    const kvHeads = exec.heads.kvHeads(base.heads);
    if (kvHeads !== arch.kvHeads) {
      throw new ValueError(`heads strategy gives ${kvHeads} K/V heads but its plan says ${arch.kvHeads}`);
    }
    const rng = new Rng(options.seed ?? 0);
    const created: { dispose(): void }[] = [];
    const given = (name: string, shape: readonly number[]): Tensor | null => {
      const t = options.weights?.get(name);
      if (!t) return null;
      if (t.shape.join() === shape.join()) return t;
      const convert = options.convert ?? convertKvHeads;
      const converted = shape.length === 2 ? convert(name, t, shape as [number, number], arch) : null;
      if (converted) return converted;
      throw new ShapeError(
        "Transformer.create",
        `weight '${name}' is [${t.shape}], the configuration needs [${shape}]`,
        {
          name,
        },
      );
    };
    const f32Param = (
      name: string,
      shape: readonly number[],
      init: () => Tensor,
      category: string,
    ): Tensor => {
      const g = given(name, shape);
      const t = g ? clone(g, { category }) : init();
      if (!g) t.storage.recategorize(category);
      // With adapters the whole base model is frozen: only the adapters train.
      t.requiresGrad = exec.adapters === undefined;
      t.name = name;
      created.push(t);
      return t;
    };
    const linear = (
      name: string,
      role: string,
      out: number,
      inp: number,
      std: number,
      category: string,
    ): LinearWeight => {
      const g = given(name, [out, inp]);
      const w = g ?? randn([out, inp], rng, { std });
      let packed = exec.weights.pack(w, category);
      if (!g) w.dispose();
      else if (g !== options.weights?.get(name)) g.dispose();
      if (exec.adapters?.targets.includes(role)) packed = exec.adapters.wrap(packed, role, rng);
      created.push(packed);
      return packed;
    };
    try {
      return withBackend(exec.backend.backend, () => {
        const { dModel: d, heads: H, headDim: D, layers: L, vocab: V } = arch;
        const std = 0.02;
        const outStd = std / Math.sqrt(2 * L);
        const embed = f32Param(weightName.embed, [V, d], () => randn([V, d], rng, { std }), "weights/embed");
        const layers: Layer[] = [];
        for (let i = 0; i < L; i++) {
          const attnNorm = f32Param(weightName.attnNorm(i), [d], () => ones([d]), "weights/norm");
          const q = linear(weightName.attn(i, "q"), "q", H * D, d, std, ATTN);
          const k = linear(weightName.attn(i, "k"), "k", kvHeads * D, d, std, ATTN);
          const v = linear(weightName.attn(i, "v"), "v", kvHeads * D, d, std, ATTN);
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
          : f32Param(weightName.head, [V, d], () => randn([V, d], rng, { std }), "weights/head");
        const model = new Transformer({ arch, config, plan, embed, norm, head, layers, exec });
        if (exec.adapters) {
          // With adapters the base model is frozen: only tensors in the `adapters` category train.
          for (const l of layers)
            for (const p of l.parameters()) p.requiresGrad = rootCategory(p.storage.category) === "adapters";
        }
        return model;
      });
    } catch (e) {
      for (const c of created) c.dispose();
      throw e;
    }
  }

  get exec(): { readonly [S in keyof SlotExec]: SlotExec[S] } {
    return this.#exec;
  }

  /** Run `fn` on this model's backend. */
  run<T>(fn: () => T): T {
    return withBackend(this.#exec.backend.backend, fn);
  }

  /** A KV cache for `batch` sequences of up to `maxSeq` tokens, from the configured kv slots. */
  createCache(batch: number, maxSeq: number): KvCache {
    const { layers, kvHeads, headDim } = this.arch;
    return this.#exec["kv-memory"].createCache({
      batch,
      layers,
      kvHeads,
      headDim,
      maxSeq,
      dtype: this.#exec["kv-dtype"],
    });
  }

  /**
   * ids [B, T] (i32) → logits [B, T, V]. With a cache, positions continue after what it holds and
   * the new K/V are appended. With autograd on and no cache, layers run in the checkpoint strategy's
   * segments.
   */
  forward(ids: Tensor, cache: KvCache | null = null): Tensor {
    if (cache && cache.spec.batch !== ids.dim(0)) {
      throw new ShapeError("forward", `cache holds ${cache.spec.batch} sequences, ids has ${ids.dim(0)}`);
    }
    const offset = cache?.length ?? 0;
    const T = ids.rank === 2 ? ids.dim(1) : 0;
    const positions = Array.from({ length: T }, (_, i) => offset + i);
    const attn = this.#exec.attention;
    const options = { causal: true, window: this.arch.window };
    const kvAttend: KvAttend = (layer, q, k, v) => {
      if (!cache) return attn.attend(q, k, v, options);
      cache.append(layer, k, v);
      if (offset === 0) return attn.attend(q, k, v, options);
      const all = cache.read(layer); // (B, Hkv, offset + T, D)
      const o = attn.attend(q, all.k, all.v, options);
      all.k.dispose();
      all.v.dispose();
      return o;
    };
    const logits = this.forwardWith(ids, positions, kvAttend, cache === null);
    if (cache) cache.advance(T);
    return logits;
  }

  /**
   * The general forward: ids [B, T] at `positions` (T shared positions, or B·T, one row per
   * sequence), attention through `kvAttend`. `segments`: run the checkpoint strategy's segments
   * (training without a cache).
   */
  forwardWith(ids: Tensor, positions: readonly number[], kvAttend: KvAttend, segments = false): Tensor {
    if (this.#disposed) throw new ValueError("Transformer.forward: the model was disposed");
    if (ids.rank !== 2 || ids.dtype !== "i32")
      throw new ShapeError("forward", `ids must be i32 [batch, seq], got ${ids.describe()}`);
    const [B, T] = ids.shape as [number, number];
    const last = positions.reduce((m, p) => Math.max(m, p), -1);
    if (last >= this.arch.maxSeq) {
      throw new ValueError(
        `forward: position ${last + 1} exceeds the model's maximum of ${this.arch.maxSeq}`,
      );
    }
    return this.run(() =>
      scope(() => {
        let x = embedding(this.embed, ids); // (B, T, d)
        const plan = segments
          ? this.#exec.checkpoint.segments(
              this.layers.length,
              this.layerActBytes(B, T),
              B * T * this.arch.dModel * 4,
              headActBytes(this.plan, B * T),
            )
          : [];
        const inSegment = new Map<number, readonly number[]>();
        for (const seg of plan) inSegment.set(seg[0]!, seg);
        for (let i = 0; i < this.layers.length; ) {
          const seg = inSegment.get(i);
          let next: Tensor;
          if (seg && seg.length > 0) {
            next = checkpoint(
              (xin) => {
                let y = xin;
                for (const j of seg) {
                  const z = this.layers[j]!.forward(y, this.arch, positions, kvAttend, j);
                  if (y !== xin) y.dispose();
                  y = z;
                }
                return y;
              },
              [x],
            );
            i += seg.length;
          } else {
            next = this.layers[i]!.forward(x, this.arch, positions, kvAttend, i);
            i++;
          }
          x.dispose(); // under autograd its storage lives on as a saved activation
          x = next;
        }
        const h = rmsNorm(x, this.norm, this.arch.normEps);
        x.dispose();
        return matmul(h, this.head ?? this.embed, { transB: true }); // (B, T, V)
      }),
    );
  }

  /** Mean next-token cross-entropy of `targets` [B, T] given `ids` [B, T], plus FFN auxiliary losses. */
  loss(ids: Tensor, targets: Tensor): Tensor {
    return this.run(() =>
      scope(() => {
        const logits = this.forward(ids);
        const [B, T, V] = logits.shape as [number, number, number];
        let loss = crossEntropy(reshape(logits, [B * T, V]), reshape(targets, [B * T]));
        for (const l of this.layers) {
          const aux = l.ffn.auxLoss?.();
          if (aux) loss = add(loss, aux);
        }
        return loss;
      }),
    );
  }

  /** Activation bytes one layer saves for backward (the estimator's formula; see plan.ts). */
  layerActBytes(batch: number, seq: number): number {
    return layerActElements(this.plan, batch, seq) * 4;
  }

  /** Trainable tensors (adapters only when the base weights are frozen). */
  parameters(): Tensor[] {
    const all = [
      this.embed,
      ...this.layers.flatMap((l) => l.parameters()),
      this.norm,
      ...(this.head ? [this.head] : []),
    ];
    return all.filter((t) => t.requiresGrad);
  }

  /**
   * Greedy decoding: prompts [B][P] → generated tokens [B][n], using the KV cache. `onStep(i)` runs
   * after step i's tokens are chosen (step 0 is the prefill), e.g. to time the phases.
   */
  generate(
    prompts: readonly (readonly number[])[],
    n: number,
    options: { readonly onStep?: (step: number) => void } = {},
  ): number[][] {
    const B = prompts.length;
    const P = prompts[0]?.length ?? 0;
    if (B === 0 || P === 0 || prompts.some((p) => p.length !== P)) {
      throw new ValueError("generate: needs at least one prompt, all of the same non-zero length");
    }
    const cache = this.createCache(B, P + n);
    const out: number[][] = prompts.map(() => []);
    try {
      let next = tensor(prompts.flat(), [B, P], { dtype: "i32" });
      for (let step = 0; step < n; step++) {
        const logits = this.forward(next, cache);
        next.dispose();
        const T = logits.dim(1);
        const V = logits.dim(2);
        const ld = logits.data;
        const ids: number[] = [];
        for (let b = 0; b < B; b++) {
          let best = 0;
          const base = (b * T + T - 1) * V;
          for (let j = 1; j < V; j++) if (ld[base + j]! > ld[base + best]!) best = j;
          ids.push(best);
          out[b]!.push(best);
        }
        logits.dispose();
        next = tensor(ids, [B, 1], { dtype: "i32" });
        options.onStep?.(step);
      }
      next.dispose();
    } finally {
      cache.dispose();
    }
    return out;
  }

  /** f32 tensors by name for saving (FP32 weights only; quantised formats are dequantised). */
  namedTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>([
      [weightName.embed, this.embed],
      [weightName.norm, this.norm],
    ]);
    if (this.head) out.set(weightName.head, this.head);
    this.layers.forEach((l, i) => {
      out.set(weightName.attnNorm(i), l.attnNorm);
      out.set(weightName.ffnNorm(i), l.ffnNorm);
      for (const p of ["q", "k", "v", "o"] as const) {
        const w = l[p];
        out.set(
          weightName.attn(i, p),
          w.format === "FP32" && "weight" in w ? (w as unknown as { weight: Tensor }).weight : w.dequantize(),
        );
      }
      for (const [name, w] of l.ffn.namedWeights()) {
        out.set(
          weightName.ffn(i, name),
          "apply" in w ? ((w as { weight?: Tensor }).weight ?? w.dequantize()) : w,
        );
      }
    });
    return out;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const l of this.layers) l.dispose();
    this.embed.dispose();
    this.norm.dispose();
    this.head?.dispose();
  }
}
