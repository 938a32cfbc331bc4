/**
 * The JavaScript references of the fused step kernels a backend may provide (`Backend.siluMul`,
 * `Backend.siluBackward`, `Backend.maskedSoftmax`, `Backend.sample`, `Backend.adamw`): SiLU(gate)·up and
 * SiLU's backward, the masked softmax of
 * attention scores, temperature sampling and the AdamW update, on raw arrays. Readable loops in f64; they are the fallback when the backend has no kernel and the oracle
 * the WASM kernels are tested against. Not here: tensors, autograd or the optimizer's bookkeeping.
 */

/** out[i] = silu(gate[i]) · up[i], silu(v) = v / (1 + e^−v), over gate.length elements. */
export function siluMul(gate: Float32Array, up: Float32Array, out: Float32Array): void {
  for (let i = 0; i < gate.length; i++) {
    const v = gate[i]!;
    out[i] = (v / (1 + Math.exp(-v))) * up[i]!;
  }
}

/** silu′(x) = σ(x)(1 + x(1 − σ(x))), in f64. */
export function siluGrad(x: number): number {
  const s = 1 / (1 + Math.exp(-x));
  return s * (1 + x * (1 - s));
}

/** out[i] = g[i] · silu′(x[i]) over out.length elements: SiLU's backward (the gradient through the gate). */
export function siluBackward(g: Float32Array, x: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = g[i]! * siluGrad(x[i]!);
}

/**
 * Attention probabilities from raw scores x [rows, tk], row r being query r mod tq (grouped heads stack
 * their queries along rows): out = softmax(scale·x) over the keys query i sees, 0 elsewhere. The mask
 * is AttendOptions' rule (the attention package's `visibleKeys`): hi = i + tk − tq when causal (at most
 * tk − 1), else tk − 1; a window keeps the last `window` keys up to hi.
 */
export interface MaskedSoftmaxArgs {
  /** Scores [rows, tk] (read). */
  readonly x: Float32Array;
  /** Probabilities [rows, tk] (written; may be x). */
  readonly out: Float32Array;
  /** Rows of scores (query heads × tq, stacked). */
  readonly rows: number;
  /** Queries per group of rows. */
  readonly tq: number;
  /** Keys per row. */
  readonly tk: number;
  /** Multiplies the scores (after the row max is subtracted). */
  readonly scale: number;
  /** Causal mask, aligned bottom-right when tq < tk. */
  readonly causal: boolean;
  /** Keys each query sees at most (undefined or 0: no window). */
  readonly window?: number | undefined;
}

/** The JS masked softmax (see `MaskedSoftmaxArgs`). */
export function maskedSoftmax(a: MaskedSoftmaxArgs): void {
  const { x, out, tq, tk, scale } = a;
  for (let r = 0; r < a.rows; r++) {
    const i = r % tq;
    const hi = a.causal ? Math.min(i + tk - tq, tk - 1) : tk - 1;
    const lo = a.window ? Math.max(0, hi - a.window + 1) : 0;
    const o = r * tk;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = lo; j <= hi; j++) if (x[o + j]! > m) m = x[o + j]!;
    let sum = 0;
    for (let j = lo; j <= hi; j++) {
      const e = Math.exp((x[o + j]! - m) * scale);
      out[o + j] = e;
      sum += e;
    }
    const inv = sum > 0 ? 1 / sum : 0;
    for (let j = lo; j <= hi; j++) out[o + j] = out[o + j]! * inv;
    out.fill(0, o, o + Math.max(0, Math.min(lo, tk)));
    out.fill(0, o + Math.max(hi + 1, 0), o + tk);
  }
}

/**
 * One token per row of `logits` [rows, cols]: with temperature > 0, p_j ∝ e^((x_j − max)/temperature)
 * and the token is the first j whose running sum of p exceeds uniforms[r]·Σp (the argmax, first on
 * ties, when temperature ≤ 0 or rounding leaves none). The rule `sampleToken` in @tradeoffs/paging
 * applies to one row.
 */
export interface SampleArgs {
  /** f32 [rows, cols]. */
  readonly logits: Float32Array;
  /** Rows of logits: one token each. */
  readonly rows: number;
  /** Vocabulary size (logits per row). */
  readonly cols: number;
  /** 0 (or less): greedy. */
  readonly temperature: number;
  /** rows uniforms in [0, 1) (ignored when temperature ≤ 0). */
  readonly uniforms: ArrayLike<number>;
  /** rows token ids (written). */
  readonly out: Int32Array;
}

/** The JS sampler (see `SampleArgs`). */
export function sample(a: SampleArgs): void {
  const { logits: x, cols } = a;
  for (let r = 0; r < a.rows; r++) {
    const o = r * cols;
    let best = 0;
    for (let j = 1; j < cols; j++) if (x[o + j]! > x[o + best]!) best = j;
    a.out[r] = best;
    if (!(a.temperature > 0)) continue;
    const mx = x[o + best]!;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp((x[o + j]! - mx) / a.temperature);
    let left = a.uniforms[r]! * sum;
    for (let j = 0; j < cols; j++) {
      left -= Math.exp((x[o + j]! - mx) / a.temperature);
      if (left < 0) {
        a.out[r] = j;
        break;
      }
    }
  }
}

/**
 * One AdamW update (Loshchilov & Hutter, decoupled weight decay) of `param` in place from `grad`,
 * with the moments `m`, `v` (all the same length, f32). The caller owns the step count and passes the
 * bias corrections bc1 = 1 − β₁ᵗ and bc2 = 1 − β₂ᵗ, the decay factor (1 − lr·wd, or 1) and the
 * gradient scale (global-norm clipping).
 */
export interface AdamWArgs {
  /** Updated in place. */
  readonly param: Float32Array;
  /** The parameter's gradient (read only). */
  readonly grad: Float32Array;
  /** First moment, updated in place. */
  readonly m: Float32Array;
  /** Second moment, updated in place. */
  readonly v: Float32Array;
  /** Learning rate. */
  readonly lr: number;
  /** Decay of the first moment (e.g. 0.9). */
  readonly beta1: number;
  /** Decay of the second moment (e.g. 0.95). */
  readonly beta2: number;
  /** Added to √v̂ in the denominator. */
  readonly eps: number;
  /** Multiplies the parameter before the step: 1 − lr·weightDecay, or 1 for no decay. */
  readonly decay: number;
  /** Multiplies each gradient (clipping), 1 for none. */
  readonly gradScale: number;
  /** Bias correction of the first moment, 1 − β₁ᵗ. */
  readonly bc1: number;
  /** Bias correction of the second moment, 1 − β₂ᵗ. */
  readonly bc2: number;
}

/** The JS AdamW update (see `AdamWArgs`): the reference the WASM kernel matches bit for bit. */
export function adamw(a: AdamWArgs): void {
  const { param: w, grad: g, m, v, lr, beta1, beta2, eps, decay, gradScale, bc1, bc2 } = a;
  for (let j = 0; j < w.length; j++) {
    const gj = g[j]! * gradScale;
    m[j] = beta1 * m[j]! + (1 - beta1) * gj;
    v[j] = beta2 * v[j]! + (1 - beta2) * gj * gj;
    w[j] = w[j]! * decay - (lr * (m[j]! / bc1)) / (Math.sqrt(v[j]! / bc2) + eps);
  }
}
