/**
 * AdamW (Loshchilov & Hutter) with global-norm gradient clipping. Moment buffers are allocated on
 * the first step under the ledger category `optim` (two f32 tensors per trainable parameter).
 */
import { type Tensor, ValueError, zeros } from "@tradeoffs/core-tensor";

export interface AdamWOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Decoupled weight decay, applied to matrices (rank ≥ 2) only. */
  readonly weightDecay?: number;
  /** Clip the global gradient norm to this value (0 = off). */
  readonly clip?: number;
}

export class AdamW {
  readonly params: readonly Tensor[];
  readonly options: Required<AdamWOptions>;
  #m: Tensor[] = [];
  #v: Tensor[] = [];
  #t = 0;

  constructor(params: readonly Tensor[], options: AdamWOptions = {}) {
    if (params.length === 0) throw new ValueError("AdamW: no trainable parameters");
    this.params = params;
    this.options = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1, ...options };
  }

  /** One update from the accumulated `.grad`s; returns the gradient norm before clipping. */
  step(lr = this.options.lr): number {
    if (this.#m.length === 0) {
      // All moments or none: a failed allocation frees what it made and leaves the optimizer as it was.
      const made: Tensor[] = [];
      try {
        for (const p of this.params) made.push(zeros(p.shape, { category: "optim" }));
        for (const p of this.params) made.push(zeros(p.shape, { category: "optim" }));
      } catch (e) {
        for (const t of made) t.dispose();
        throw e;
      }
      this.#m = made.slice(0, this.params.length);
      this.#v = made.slice(this.params.length);
    }
    let sq = 0;
    for (const p of this.params) {
      if (!p.grad) continue;
      for (const g of p.grad.data) sq += g * g;
    }
    const norm = Math.sqrt(sq);
    const { beta1, beta2, eps, weightDecay, clip } = this.options;
    const scale = clip > 0 && norm > clip ? clip / norm : 1;
    this.#t++;
    const bc1 = 1 - beta1 ** this.#t;
    const bc2 = 1 - beta2 ** this.#t;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const w = p.data;
      const g = p.grad.data;
      const m = this.#m[i]!.data;
      const v = this.#v[i]!.data;
      const decay = p.rank >= 2 ? 1 - lr * weightDecay : 1;
      for (let j = 0; j < w.length; j++) {
        const gj = g[j]! * scale;
        m[j] = beta1 * m[j]! + (1 - beta1) * gj;
        v[j] = beta2 * v[j]! + (1 - beta2) * gj * gj;
        w[j] = w[j]! * decay - (lr * (m[j]! / bc1)) / (Math.sqrt(v[j]! / bc2) + eps);
      }
    });
    return norm;
  }

  /** Drop every parameter's gradient (frees the `grad` bytes). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  dispose(): void {
    this.zeroGrad();
    for (const t of [...this.#m, ...this.#v]) t.dispose();
    this.#m = [];
    this.#v = [];
  }
}
