/**
 * Test fixture, not public API (`@tradeoffs/paging/testing`): a tiny untrained attention-only `StepModel`
 * (seeded weights, sinusoidal positions, grouped K/V heads) whose every token depends on every cached K/V.
 */
import {
  empty,
  Rng,
  randn,
  type SequenceCache,
  scope,
  type Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import type { StepModel } from "../scheduler.js";

export interface ToyModelOptions {
  readonly vocab?: number;
  readonly layers?: number;
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly headDim?: number;
  readonly seed?: number;
}

interface Layer {
  wq: Tensor; // [H·D, dModel]
  wk: Tensor; // [Hkv·D, dModel]
  wv: Tensor; // [Hkv·D, dModel]
  wo: Tensor; // [dModel, H·D]
}

/** y [T, out] = x [T, in] · Wᵀ, row by row (the same arithmetic for a prefill row and a decode row). */
function linear(x: Float32Array, T: number, w: Tensor): Float32Array {
  const [out, inF] = w.shape as [number, number];
  const wd = w.data;
  const y = new Float32Array(T * out);
  for (let t = 0; t < T; t++)
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let i = 0; i < inF; i++) s += x[t * inF + i]! * wd[o * inF + i]!;
      y[t * out + o] = s;
    }
  return y;
}

/** [T, n·D] rows → a [1, n, T, D] tensor in `tmp`. */
function toHeads(x: Float32Array, T: number, n: number, D: number): Tensor {
  const out = empty([1, n, T, D]);
  const o = out.data;
  for (let t = 0; t < T; t++)
    for (let h = 0; h < n; h++) for (let d = 0; d < D; d++) o[(h * T + t) * D + d] = x[(t * n + h) * D + d]!;
  return out;
}

export class ToyAttentionModel implements StepModel {
  readonly vocab: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly dModel: number;
  readonly #embed: Tensor; // [vocab, dModel]
  readonly #unembed: Tensor; // [vocab, dModel], untied so logits are not just "repeat the input"
  readonly #layers: Layer[];

  constructor(o: ToyModelOptions = {}) {
    this.vocab = o.vocab ?? 64;
    this.layers = o.layers ?? 2;
    this.heads = o.heads ?? 4;
    this.kvHeads = o.kvHeads ?? 2;
    this.headDim = o.headDim ?? 8;
    if (this.heads % this.kvHeads !== 0) {
      throw new ValueError(
        `ToyAttentionModel: heads (${this.heads}) must be a multiple of kvHeads (${this.kvHeads})`,
      );
    }
    this.dModel = this.heads * this.headDim;
    const rng = new Rng(o.seed ?? 7);
    const dm = this.dModel;
    const std = 1 / Math.sqrt(dm);
    const w = (rows: number, cols: number, s: number) =>
      randn([rows, cols], rng, { std: s, category: "weights/attn" });
    this.#embed = randn([this.vocab, dm], rng, { std: 0.5, category: "weights/embed" });
    this.#unembed = randn([this.vocab, dm], rng, { category: "weights/embed" });
    this.#layers = Array.from({ length: this.layers }, () => ({
      wq: w(this.heads * this.headDim, dm, 2 * std),
      wk: w(this.kvHeads * this.headDim, dm, 2 * std),
      wv: w(this.kvHeads * this.headDim, dm, std),
      wo: w(dm, this.heads * this.headDim, std),
    }));
  }

  /** Cache geometry this model needs. */
  get cacheShape(): { layers: number; kvHeads: number; headDim: number } {
    return { layers: this.layers, kvHeads: this.kvHeads, headDim: this.headDim };
  }

  prefill(cache: SequenceCache, seqId: number, tokens: readonly number[], start: number): Float32Array {
    return this.#forward(cache, seqId, tokens.slice(start), start);
  }

  decode(cache: SequenceCache, seqIds: readonly number[], tokens: readonly number[]): Float32Array[] {
    return seqIds.map((id, i) => this.#forward(cache, id, [tokens[i]!], cache.sequenceLength(id)));
  }

  dispose(): void {
    this.#embed.dispose();
    this.#unembed.dispose();
    for (const l of this.#layers) for (const t of [l.wq, l.wk, l.wv, l.wo]) t.dispose();
  }

  /** Run `tokens` at positions start.. through every layer, appending K/V; logits of the last one. */
  #forward(cache: SequenceCache, seqId: number, tokens: readonly number[], start: number): Float32Array {
    const T = tokens.length;
    if (T === 0) throw new ValueError(`ToyAttentionModel: nothing to compute for sequence ${seqId}`);
    const { dModel: dm, heads: H, kvHeads: Hkv, headDim: D, vocab } = this;
    const e = this.#embed.data;
    const x = new Float32Array(T * dm); // residual stream [T, dModel]
    for (let t = 0; t < T; t++) {
      const tok = tokens[t]!;
      if (!(Number.isInteger(tok) && tok >= 0 && tok < vocab)) {
        throw new ValueError(`ToyAttentionModel: token ${tok} is outside [0, ${vocab})`);
      }
      for (let i = 0; i < dm; i++) {
        const pos = start + t;
        const angle = pos / 10000 ** ((2 * Math.floor(i / 2)) / dm);
        x[t * dm + i] = e[tok * dm + i]! + (i % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
      }
    }
    scope(() => {
      for (let l = 0; l < this.layers; l++) {
        const L = this.#layers[l]!;
        const q = toHeads(linear(x, T, L.wq), T, H, D); // (1, H, T, D)
        const k = toHeads(linear(x, T, L.wk), T, Hkv, D); // (1, Hkv, T, D)
        const v = toHeads(linear(x, T, L.wv), T, Hkv, D);
        cache.appendTokens(seqId, l, k, v);
        const a = cache.attend(q, seqId, l, { causal: true }).data; // (1, H, T, D)
        const rows = new Float32Array(T * H * D); // back to [T, H·D]
        for (let h = 0; h < H; h++)
          for (let t = 0; t < T; t++)
            for (let d = 0; d < D; d++) rows[(t * H + h) * D + d] = a[(h * T + t) * D + d]!;
        const y = linear(rows, T, L.wo);
        // Attention dominates the residual, so every cached K/V vector moves the logits.
        for (let i = 0; i < x.length; i++) x[i] = x[i]! + 3 * Math.tanh(2 * y[i]!);
      }
    });
    const last = x.subarray((T - 1) * dm, T * dm);
    const u = this.#unembed.data;
    const logits = new Float32Array(vocab);
    for (let t = 0; t < vocab; t++) {
      let s = 0;
      for (let i = 0; i < dm; i++) s += last[i]! * u[t * dm + i]!;
      logits[t] = s;
    }
    return logits;
  }
}
