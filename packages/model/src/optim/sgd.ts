/**
 * SGD with momentum in PyTorch's form (`torch.optim.SGD`): L2 weight decay added to the gradient,
 * buffer b ← μ·b + (1 − dampening)·g (b = g on the first step), step along b (or g + μ·b with
 * Nesterov). One f32 buffer per parameter when μ > 0, none otherwise. Not here: decoupled decay.
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

/** SGD hyperparameters (defaults: lr 1e-2, momentum 0.9, no dampening, no Nesterov, no weight decay, clip 1). */
export interface SgdOptions extends CommonOptimizerOptions {
  /** Momentum μ (0 = plain SGD, no state). */
  readonly momentum?: number;
  /** Dampening of the gradient added to the buffer. */
  readonly dampening?: number;
  /** Step along g + μ·b instead of b. */
  readonly nesterov?: boolean;
}

/** The defaults, read by the constructor and by `stateBytes` (whether there is a buffer). */
const SGD_DEFAULTS: Required<SgdOptions> = {
  lr: 1e-2,
  weightDecay: 0,
  clip: 1,
  momentum: 0.9,
  dampening: 0,
  nesterov: false,
};

/** SGD with momentum (`optim`: one f32 buffer per parameter, none without momentum). */
export class Sgd implements Optimizer {
  /** The registry name. */
  readonly name = "sgd";
  /** The tensors this optimizer updates. */
  readonly params: readonly Tensor[];
  /** The options with every default filled. */
  readonly options: Required<SgdOptions>;
  #buf: Tensor[] = [];
  #t = 0;

  /** State bytes for one parameter of `shape`: one f32 buffer with momentum, else none. */
  static stateBytes(shape: readonly number[], options: SgdOptions = {}): number {
    return (options.momentum ?? SGD_DEFAULTS.momentum) > 0 ? 4 * shape.reduce((a, b) => a * b, 1) : 0;
  }

  /** An optimizer over `params` (throws a ValueError when there are none); state is allocated on the first step. */
  constructor(params: readonly Tensor[], options: SgdOptions = {}) {
    if (params.length === 0) throw new ValueError("SGD: no trainable parameters");
    this.params = params;
    this.options = { ...SGD_DEFAULTS, ...options };
    if (this.options.nesterov && (this.options.momentum <= 0 || this.options.dampening !== 0))
      throw new ValueError(
        `SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${this.options.momentum}, dampening ${this.options.dampening}`,
      );
  }

  /** {@inheritDoc Optimizer.step} */
  step(lr = this.options.lr): number {
    const { momentum, dampening, nesterov, weightDecay, clip } = this.options;
    if (momentum > 0 && this.#buf.length === 0) this.#buf = optimZeros(this.params);
    const norm = globalGradNorm(this.params);
    const scale = clipScale(norm, clip);
    this.#t++;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const w = p.data;
      const g = p.grad.data;
      const b = this.#buf[i]?.data;
      const wd = p.rank >= 2 ? weightDecay : 0;
      for (let j = 0; j < w.length; j++) {
        let d = g[j]! * scale + wd * w[j]!;
        if (b) {
          b[j] = this.#t === 1 ? d : momentum * b[j]! + (1 - dampening) * d;
          d = nesterov ? d + momentum * b[j]! : b[j]!;
        }
        w[j] = w[j]! - lr * d;
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
    for (const t of this.#buf) t.dispose();
    this.#buf = [];
  }
}
