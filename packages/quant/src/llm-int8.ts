/**
 * `LLMInt8[threshold=6]`: LLM.int8() (Dettmers et al. 2022, arXiv:2208.07339, §3.2), the
 * mixed-precision decomposition. Feature columns of x with any |x| > threshold go through an f32
 * product with those (dequantised) weight columns; the rest through int8 × int8 with vector-wise
 * absmax scales (per row of x, per output channel of W), integer accumulation, then rescaling.
 * Not here: weight-only INT8 (int8.ts, x stays f32) or any fp16 arithmetic (this runs in f32).
 */
import {
  defineStrategy,
  empty,
  getBackend,
  getLedger,
  type LinearWeight,
  matmulArgs,
  type Plan,
  record,
  ShapeError,
  type Tensor,
  ValueError,
  type WeightsCost,
} from "@tradeoffs/core-tensor";
import { int8Format } from "./int8.js";
import type { PackedWeight, WeightFormat } from "./packed.js";
import { backwardInput } from "./packed-linear.js";

/**
 * Outlier feature columns the plan assumes per 4096 inputs: Dettmers et al. 2022 §4.1 find the
 * outliers of a 6.7B model concentrated in 6 of its 4096 hidden dimensions. The real count is
 * data-dependent (see {@link LlmInt8Linear.stats}).
 */
export const MODELLED_OUTLIERS_PER_4096 = 6;

/** What one `apply` of an {@link LlmInt8Linear} decomposed. */
export interface LlmInt8Stats {
  /** Rows of x (tokens) in the product. */
  readonly rows: number;
  /** Feature columns of x (the layer's input width). */
  readonly columns: number;
  /** Columns routed through the f32 outlier product. */
  readonly outlierColumns: number;
  /** outlierColumns / columns. */
  readonly outlierFraction: number;
}

/** Running totals over every `apply` since the layer was built (or `resetStats()`). */
export interface LlmInt8Totals {
  /** Products run. */
  readonly applies: number;
  /** Mean of `outlierFraction` over the applies (0 when none). */
  readonly meanOutlierFraction: number;
  /** Distinct input columns that were an outlier column in at least one apply. */
  readonly columnsEverOutlier: number;
  /** The layer's input width. */
  readonly columns: number;
}

/** Plain object for the totals, so a report can print them. */
function totalsOf(applies: number, sumFraction: number, ever: Uint8Array): LlmInt8Totals {
  let n = 0;
  for (const e of ever) n += e;
  return {
    applies,
    meanOutlierFraction: applies === 0 ? 0 : sumFraction / applies,
    columnsEverOutlier: n,
    columns: ever.length,
  };
}

/**
 * A frozen `LinearWeight`: W stored as int8 with one f32 absmax scale per output channel (the bytes
 * of `INT8[group=0]`), multiplied by LLM.int8()'s decomposition. Differentiable in x: the gradient
 * is g · Ŵ (straight through the activation quantisation); the weight gets none.
 */
export class LlmInt8Linear implements LinearWeight {
  /** Canonical label, e.g. `LLMInt8[threshold=6]`. */
  readonly format: string;
  /** Input width (columns of W, feature columns of x). */
  readonly inFeatures: number;
  /** Output width (rows of W). */
  readonly outFeatures: number;
  /** |x| above which a feature column takes the f32 path. */
  readonly threshold: number;
  /** W as int8 codes with one f32 scale per output channel. */
  readonly packed: PackedWeight;
  /** The `INT8[group=0]` codec that packs and decodes W. */
  readonly codec: WeightFormat;
  #last: LlmInt8Stats | null = null;
  #applies = 0;
  #sumFraction = 0;
  readonly #ever: Uint8Array;

  /** Quantise `w` [out, in] under `category`; columns of x with |x| > `threshold` stay f32. */
  constructor(w: Tensor, category: string, threshold: number) {
    if (!(threshold >= 0)) {
      throw new ValueError(`LLMInt8: threshold must be a number ≥ 0 or inf, got ${threshold}`, { threshold });
    }
    this.codec = int8Format({ group: 0 });
    this.packed = this.codec.quantize(w, category);
    this.threshold = threshold;
    this.format = `LLMInt8[threshold=${threshold === Number.POSITIVE_INFINITY ? "inf" : threshold}]`;
    this.outFeatures = this.packed.rows;
    this.inFeatures = this.packed.cols;
    this.#ever = new Uint8Array(this.inFeatures);
  }

  /** Bytes held in the ledger: the int8 codes and the per-channel scales. */
  get bytes(): number {
    return this.packed.bytes;
  }

  /** The decomposition of the last `apply` (null before the first). */
  get stats(): LlmInt8Stats | null {
    return this.#last;
  }

  /** Totals over every `apply` since construction or the last `resetStats()`. */
  totals(): LlmInt8Totals {
    return totalsOf(this.#applies, this.#sumFraction, this.#ever);
  }

  /** Forget the statistics (e.g. between a warm-up and a measured run). */
  resetStats(): void {
    this.#last = null;
    this.#applies = 0;
    this.#sumFraction = 0;
    this.#ever.fill(0);
  }

  /** x [..., in] → [..., out]. */
  apply(x: Tensor): Tensor {
    const K = this.inFeatures;
    const N = this.outFeatures;
    if (x.rank < 1 || x.dim(-1) !== K) {
      throw new ShapeError(`${this.format}.apply`, `x must be [..., ${K}], got [${x.shape}]`, {
        x: x.shape,
        inFeatures: K,
      });
    }
    const M = x.size / K;
    const y = empty([...x.shape.slice(0, -1), N]);
    try {
      const outliers = this.#forward(x.data, M, y.data);
      this.#record(M, outliers);
    } catch (e) {
      y.dispose();
      throw e;
    }
    return record(y, `${this.format}.apply`, [x], [], (g) => {
      const gx = empty(x.shape);
      const kw = this.codec.kernelWeight?.(this.packed); // the backend decodes tiles when it can
      try {
        backwardInput(this.codec, this.packed, getBackend(), g.data, M, gx.data, kw);
      } finally {
        kw?.release();
      }
      return [gx];
    });
  }

  /** y [M, N] = int8 part + outlier part; returns the outlier column indices. */
  #forward(x: Float32Array, M: number, y: Float32Array): Int32Array {
    const K = this.inFeatures;
    const N = this.outFeatures;
    const p = this.packed;
    // Outlier columns: any |x[i, k]| > threshold (Dettmers et al. 2022, eq. 8's set O).
    const outlier = new Uint8Array(K);
    let nO = 0;
    for (let i = 0; i < M; i++) {
      const o = i * K;
      for (let k = 0; k < K; k++) {
        if (outlier[k] === 0 && Math.abs(x[o + k]!) > this.threshold) {
          outlier[k] = 1;
          nO++;
        }
      }
    }
    const cols = new Int32Array(nO);
    for (let k = 0, t = 0; k < K; k++) if (outlier[k]) cols[t++] = k;

    // int8 part: x's row i quantised with sx_i = absmax over the regular columns / 127 (outlier
    // columns coded 0), Σ_k qx·qw summed exactly (|Σ| ≤ K·127², an int32 for K < 133 144).
    const codes = getLedger().allocate("tmp", "u8", K);
    try {
      const qx = new Int8Array(codes.data.buffer, codes.data.byteOffset, K);
      // Views of W taken after the scratch allocation (a growing backend heap would detach older ones).
      const qw = new Int8Array(p.data.buffer, p.data.byteOffset, p.data.length);
      const sw = p.scales; // absmax_j / 127 per output channel
      for (let i = 0; i < M; i++) {
        const o = i * K;
        let ax = 0;
        for (let k = 0; k < K; k++) if (outlier[k] === 0) ax = Math.max(ax, Math.abs(x[o + k]!));
        const sx = Math.fround(ax / 127);
        if (sx === 0) qx.fill(0);
        else {
          for (let k = 0; k < K; k++) {
            qx[k] = outlier[k] ? 0 : Math.max(-127, Math.min(127, Math.round(x[o + k]! / sx)));
          }
        }
        for (let j = 0; j < N; j++) {
          const r = j * K;
          let acc = 0;
          for (let k = 0; k < K; k++) acc += qx[k]! * qw[r + k]!;
          y[i * N + j] = acc * sx * sw[j]!;
        }
      }
    } finally {
      codes.release();
    }
    if (nO > 0) this.#outlierProduct(x, M, cols, y);
    return cols;
  }

  /** y += x_O [M, |O|] · Ŵ_Oᵀ, the outlier columns of x and of the dequantised weight, in f32. */
  #outlierProduct(x: Float32Array, M: number, cols: Int32Array, y: Float32Array): void {
    const K = this.inFeatures;
    const N = this.outFeatures;
    const nO = cols.length;
    const p = this.packed;
    const qw = new Int8Array(p.data.buffer, p.data.byteOffset, p.data.length);
    const sw = p.scales;
    const xo = empty([M, nO]);
    const wo = empty([N, nO]); // Ŵ_O: the workspace the plan charges (out × |O| f32)
    try {
      const xd = xo.data;
      const wd = wo.data;
      for (let i = 0; i < M; i++) for (let t = 0; t < nO; t++) xd[i * nO + t] = x[i * K + cols[t]!]!;
      for (let j = 0; j < N; j++) {
        const s = sw[j]!;
        for (let t = 0; t < nO; t++) wd[j * nO + t] = qw[j * K + cols[t]!]! * s;
      }
      getBackend().matmul(matmulArgs(M, N, nO, xd, wd, y, { transB: true, accumulate: true }));
    } finally {
      xo.dispose();
      wo.dispose();
    }
  }

  #record(M: number, cols: Int32Array): void {
    const fraction = cols.length / this.inFeatures;
    this.#last = Object.freeze({
      rows: M,
      columns: this.inFeatures,
      outlierColumns: cols.length,
      outlierFraction: fraction,
    });
    this.#applies++;
    this.#sumFraction += fraction;
    for (const k of cols) this.#ever[k] = 1;
  }

  /** Quantised weights are frozen. */
  parameters(): Tensor[] {
    return [];
  }

  /** Stored packed: no f32 tensor to hand out (`dequantize()` makes one). */
  f32Weight(): null {
    return null;
  }

  /** Ŵ as a new f32 [out, in] tensor in `tmp` (the caller disposes it). */
  dequantize(): Tensor {
    return this.codec.dequantize(this.packed, "tmp");
  }

  /** Free the packed weight. */
  dispose(): void {
    this.packed.dispose();
  }
}

/** Outlier columns the plan assumes for an input width (at least 1 for any finite threshold). */
export function modelledOutlierColumns(inputs: number, threshold: number): number {
  if (threshold === Number.POSITIVE_INFINITY) return 0;
  if (threshold === 0) return inputs;
  return Math.min(inputs, Math.ceil((inputs * MODELLED_OUTLIERS_PER_4096) / 4096));
}

/** The weights cost: INT8[group=0]'s exact bytes, frozen, and the outlier path's Ŵ_O workspace. */
function planLlmInt8(p: Plan, threshold: number): Plan {
  const codec = int8Format({ group: 0 });
  const weights: WeightsCost = Object.freeze({
    format: "LLMInt8",
    bitsPerWeight: 8 + 32 / p.arch.dModel,
    bytesFor: codec.bytesFor,
    trainable: false,
    workspaceElements: (out: number, inp: number) => out * modelledOutlierColumns(inp, threshold),
    workspaceNote: `tmp with LLMInt8: the outlier path's dequantised weight columns [out, |O|] f32, |O| modelled as ${MODELLED_OUTLIERS_PER_4096} per 4096 inputs (Dettmers et al. 2022 §4.1; data-dependent, measured per layer by LlmInt8Linear.stats); x's int8 codes and outlier columns scale with tokens and are not in this term`,
  });
  return { ...p, weights };
}

/** The `LLMInt8[threshold=6]` weights strategy (LLM.int8()); see {@link LlmInt8Linear}. */
export const llmInt8 = defineStrategy({
  name: "LLMInt8",
  slot: "weights",
  description:
    "LLM.int8(): int8 × int8 with vector-wise scales, feature columns of x above the threshold through an f32 product",
  options: {
    threshold: {
      type: "number",
      default: 6,
      min: 0,
      allowInfinity: true,
      doc: "|x| above which a feature column goes through the f32 product (inf = all int8, 0 = all f32)",
    },
  },
  plan: (p, o) => planLlmInt8(p, o.threshold),
  exec: (o) => ({ pack: (w: Tensor, category: string) => new LlmInt8Linear(w, category, o.threshold) }),
});
