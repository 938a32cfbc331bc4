/**
 * A Llama-style decoder assembled from a configuration's slots: token embedding, the layers
 * (layer.ts), final RMSNorm and the LM head. Runs forward, backward (via core autograd, with the
 * `checkpoint` slot's segments) and incremental decoding with the KV cache from `kv-memory` +
 * `kv-dtype`. Embeddings, norms and the head stay f32. Building the parts is build.ts; Hugging Face
 * names are weight-names.ts; greedy decoding is decode.ts.
 */
import {
  type ArchSpec,
  add,
  type Configuration,
  checkpoint,
  concat,
  crossEntropy,
  embedding,
  type KvCache,
  matmul,
  type Plan,
  reshape,
  rmsNorm,
  ShapeError,
  type SlotExec,
  scope,
  type Tensor,
  ValueError,
  withBackend,
} from "@tradeoffs/core-tensor";
import { buildParts, type ModelParts, type SlotExecs, type TransformerOptions } from "./build.js";
import { greedyDecode } from "./decode.js";
import type { KvAttend, Layer } from "./layer.js";
import { headActBytes, layerActElements } from "./layer-tensors.js";
import type { PresetName } from "./presets.js";
import { namedWeights } from "./weight-names.js";

export type { TransformerOptions } from "./build.js";
export type { KvAttend } from "./layer.js";
export { convertKvHeads, type WeightMap, weightName } from "./weight-names.js";

/**
 * A Llama-style decoder (RMSNorm, RoPE, SwiGLU) whose parts come from a configuration's slots: build it with
 * `Transformer.create(preset, config)`, then `forward`, `generate` or train it; every tensor it holds is
 * charged to the ledger.
 */
export class Transformer {
  /** The architecture as configured (K/V heads and experts set by the strategies). */
  readonly arch: ArchSpec;
  /** The configuration with every slot filled (the label is the user's). */
  readonly config: Configuration;
  /** The configuration's plan for this architecture (what the estimator uses). */
  readonly plan: Plan;
  /** Token embedding [vocab, dModel] (category `weights/embed`). */
  readonly embed: Tensor;
  /** Final norm's weight [dModel]. */
  readonly norm: Tensor;
  /** Output head [vocab, dModel]; `null` when tied to `embed`. */
  readonly head: Tensor | null;
  /** The decoder layers, first to last. */
  readonly layers: readonly Layer[];
  readonly #exec: SlotExecs;
  #disposed = false;

  private constructor(args: ModelParts) {
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
    return new Transformer(buildParts(model, configuration, options));
  }

  /** Each slot's executable part as the model was built with it. */
  get exec(): { readonly [S in keyof SlotExec]: SlotExec[S] } {
    return this.#exec;
  }

  /** Run `fn` on this model's backend. */
  run<T>(fn: () => T): T {
    return withBackend(this.#exec.backend.backend, fn);
  }

  /**
   * A KV cache for `batch` sequences of up to `maxSeq` tokens, from the configured kv slots; with
   * sliding-window attention (`arch.window`) a rolling buffer of the last `window` positions.
   */
  createCache(batch: number, maxSeq: number): KvCache {
    const { layers, kvHeads, headDim, window } = this.arch;
    // On the model's backend, so that K/V storage lands where its kernels read (WASM memory).
    return this.run(() =>
      this.#exec["kv-memory"].createCache({
        batch,
        layers,
        kvHeads,
        headDim,
        maxSeq,
        dtype: this.#exec["kv-dtype"],
        window,
      }),
    );
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
      if (cache.spec.window !== undefined && offset > 0 && T > 1) return windowChunk(layer, q, k, v);
      cache.append(layer, k, v);
      if (offset === 0) return attn.attend(q, k, v, options);
      // An attention that reads a prefix of K/V in place (Standard; Flash on WASM) attends over the
      // cache's own reservation when it offers one: no gather of every position per layer per token.
      const held = attn.keysInPlace ? cache.view?.(layer) : undefined;
      if (held) {
        try {
          return attn.attend(q, held.k, held.v, { ...options, keys: held.keys });
        } finally {
          held.k.dispose();
          held.v.dispose();
        }
      }
      const all = cache.read(layer); // (B, Hkv, offset + T, D)
      const o = attn.attend(q, all.k, all.v, options);
      all.k.dispose();
      all.v.dispose();
      return o;
    };
    // A rolling buffer holds the last `window` positions: a chunk's first queries need keys older
    // than what it keeps after this chunk is appended, so read first and attend over both.
    const windowChunk: KvAttend = (layer, q, k, v) => {
      const held = cache!.read(layer); // (B, Hkv, ≤ window, D): the positions before this chunk
      const kAll = concat([held.k, k], 2); // (B, Hkv, held + T, D), ending at the newest position
      const vAll = concat([held.v, v], 2);
      held.k.dispose();
      held.v.dispose();
      cache!.append(layer, k, v);
      const o = attn.attend(q, kAll, vAll, options);
      kAll.dispose();
      vAll.dispose();
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
    return greedyDecode(this, prompts, n, options.onStep);
  }

  /**
   * Every weight by its Hugging Face name as f32: the model's own tensors where stored f32, and
   * dequantised copies (in `tmp`, the caller frees them) for packed formats.
   */
  namedTensors(): Map<string, Tensor> {
    return namedWeights(this);
  }

  /** Releases every tensor the model holds (idempotent). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const l of this.layers) l.dispose();
    this.embed.dispose();
    this.norm.dispose();
    this.head?.dispose();
  }
}
