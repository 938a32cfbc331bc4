/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) with global-norm
 * gradient clipping. Moment buffers are allocated on the first step under the ledger category `optim`
 * (two f32 tensors per trainable parameter: 8 bytes per parameter). Not here: 8-bit moments (adamw8bit.ts).
 */
import { adamwUpdate, type Tensor, ValueError } from "@tradeoffs/core-tensor";
import {
  type CommonOptimizerOptions,
  clipScale,
  globalGradNorm,
  type Optimizer,
  optimZeros,
  zeroGrads,
} from "./optimizer.js";

/** AdamW hyperparameters (defaults: lr 1e-3, β 0.9/0.95, ε 1e-8, weight decay 0.1, clip 1). */
export interface AdamWOptions extends CommonOptimizerOptions {
  /** First-moment decay β₁. */
  readonly beta1?: number;
  /** Second-moment decay β₂. */
  readonly beta2?: number;
  /** ε added to √v̂. */
  readonly eps?: number;
}

/** AdamW's defaults (also 8-bit AdamW's): lr 1e-3, β 0.9/0.95, ε 1e-8, weight decay 0.1, clip 1. */
export const ADAMW_DEFAULTS: Required<AdamWOptions> = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
  clip: 1,
};

/** AdamW over f32 moments (`optim`: 8 B per parameter). */
export class AdamW implements Optimizer {
  /** The registry name. */
  readonly name = "adamw";
  /** The tensors this optimizer updates. */
  readonly params: readonly Tensor[];
  /** The options with every default filled. */
  readonly options: Required<AdamWOptions>;
  #m: Tensor[] = [];
  #v: Tensor[] = [];
  #t = 0;

  /** State bytes for one parameter of `shape`: m and v in f32. */
  static stateBytes(shape: readonly number[]): number {
    return 8 * shape.reduce((a, b) => a * b, 1);
  }

  /** An optimizer over `params` (throws a ValueError when there are none); state is allocated on the first step. */
  constructor(params: readonly Tensor[], options: AdamWOptions = {}) {
    if (params.length === 0) throw new ValueError("AdamW: no trainable parameters");
    this.params = params;
    this.options = { ...ADAMW_DEFAULTS, ...options };
  }

  /** One update from the accumulated `.grad`s; returns the gradient norm before clipping. */
  step(lr = this.options.lr): number {
    if (this.#m.length === 0) {
      // All moments or none: a failed allocation frees what it made and leaves the optimizer as it was.
      const made = optimZeros([...this.params, ...this.params]);
      this.#m = made.slice(0, this.params.length);
      this.#v = made.slice(this.params.length);
    }
    const norm = globalGradNorm(this.params);
    const { beta1, beta2, eps, weightDecay, clip } = this.options;
    const scale = clipScale(norm, clip);
    this.#t++;
    const bc1 = 1 - beta1 ** this.#t;
    const bc2 = 1 - beta2 ** this.#t;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const decay = p.rank >= 2 ? 1 - lr * weightDecay : 1;
      // One pass over p, g, m, v on the active backend's kernel (WASM) or the JS reference; same bits.
      adamwUpdate(p, p.grad, this.#m[i]!, this.#v[i]!, {
        lr,
        beta1,
        beta2,
        eps,
        decay,
        gradScale: scale,
        bc1,
        bc2,
      });
    });
    return norm;
  }

  /** Drop every parameter's gradient (frees the `grad` bytes). */
  zeroGrad(): void {
    zeroGrads(this.params);
  }

  /** {@inheritDoc Optimizer.dispose} */
  dispose(): void {
    this.zeroGrad();
    for (const t of [...this.#m, ...this.#v]) t.dispose();
    this.#m = [];
    this.#v = [];
  }
}
