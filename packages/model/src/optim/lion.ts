/**
 * Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms", 2023, Program 1): the update is
 * the sign of an interpolation c = β₁·m + (1 − β₁)·g, with decoupled weight decay; then the one moment
 * m ← β₂·m + (1 − β₂)·g. One f32 moment per parameter (4 bytes), half of AdamW's. Lion wants a
 * learning rate 3–10× below AdamW's (the paper's advice); the default here is 1e-4.
 */
import { type Tensor, ValueError } from "@tradeoffs/core-tensor";
import {
  type CommonOptimizerOptions,
  clipScale,
  globalGradNorm,
  type Optimizer,
  optimZeros,
  zeroGrads,
} from "./optimizer.js";

/** Lion hyperparameters (defaults: lr 1e-4, β 0.9/0.99, weight decay 0.1, clip 1). */
export interface LionOptions extends CommonOptimizerOptions {
  /** Interpolation β₁ of the update direction. */
  readonly beta1?: number;
  /** Moment decay β₂. */
  readonly beta2?: number;
}

/** Lion: sign of an interpolated momentum (`optim`: one f32 moment per parameter). */
export class Lion implements Optimizer {
  /** The registry name. */
  readonly name = "lion";
  /** The tensors this optimizer updates. */
  readonly params: readonly Tensor[];
  /** The options with every default filled. */
  readonly options: Required<LionOptions>;
  #m: Tensor[] = [];

  /** State bytes for one parameter of `shape`: one f32 moment. */
  static stateBytes(shape: readonly number[]): number {
    return 4 * shape.reduce((a, b) => a * b, 1);
  }

  /** An optimizer over `params` (throws a ValueError when there are none); state is allocated on the first step. */
  constructor(params: readonly Tensor[], options: LionOptions = {}) {
    if (params.length === 0) throw new ValueError("Lion: no trainable parameters");
    this.params = params;
    this.options = { lr: 1e-4, weightDecay: 0.1, clip: 1, beta1: 0.9, beta2: 0.99, ...options };
  }

  /** {@inheritDoc Optimizer.step} */
  step(lr = this.options.lr): number {
    if (this.#m.length === 0) this.#m = optimZeros(this.params);
    const norm = globalGradNorm(this.params);
    const { beta1, beta2, weightDecay, clip } = this.options;
    const scale = clipScale(norm, clip);
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const w = p.data;
      const g = p.grad.data;
      const m = this.#m[i]!.data;
      const wd = p.rank >= 2 ? weightDecay : 0;
      for (let j = 0; j < w.length; j++) {
        const gj = g[j]! * scale;
        const c = beta1 * m[j]! + (1 - beta1) * gj;
        w[j] = w[j]! - lr * (Math.sign(c) + wd * w[j]!);
        m[j] = beta2 * m[j]! + (1 - beta2) * gj;
      }
    });
    return norm;
  }

  /** {@inheritDoc Optimizer.zeroGrad} */
  zeroGrad(): void {
    zeroGrads(this.params);
  }

  /** {@inheritDoc Optimizer.dispose} */
  dispose(): void {
    this.zeroGrad();
    for (const t of this.#m) t.dispose();
    this.#m = [];
  }
}
