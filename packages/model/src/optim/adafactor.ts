/**
 * Adafactor (Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", ICML
 * 2018, Algorithms 4 and 5): for a matrix the second moment is kept as row sums R and column sums C
 * of g² (V̂ = R·Cᵀ / ΣR), for a vector in full; the update g/√V̂ is clipped to RMS ≤ d. No first
 * moment unless `beta1` > 0. The step size is the caller's `lr` (relative step off, as Hugging Face's
 * `Adafactor(relative_step=False)`), optionally scaled by the parameter's RMS. Not here: the schedule.
 */
import { type Tensor, ValueError, zeros } from "@tradeoffs/core-tensor";
import {
  type CommonOptimizerOptions,
  clipScale,
  globalGradNorm,
  type Optimizer,
  zeroGrads,
} from "./optimizer.js";

/** Adafactor hyperparameters (defaults: lr 1e-3, no first moment, no weight decay, clip 1, the paper's ε and d). */
export interface AdafactorOptions extends CommonOptimizerOptions {
  /** First-moment decay; 0 (default) keeps no first moment. */
  readonly beta1?: number;
  /** β̂₂ at step t is 1 − t^decayRate (paper: −0.8). */
  readonly decayRate?: number;
  /** ε₁ added to g² (paper: 1e-30). */
  readonly eps1?: number;
  /** ε₂, the floor of the parameter RMS when `scaleParameter` (paper: 1e-3). */
  readonly eps2?: number;
  /** Update clipping threshold d (paper: 1). */
  readonly clipThreshold?: number;
  /** Multiply the step by max(ε₂, RMS(W)) (the paper's relative step size); default false. */
  readonly scaleParameter?: boolean;
}

/** [rows, cols] of the factored view of a parameter (all leading axes as rows), or null for a vector. */
export function factoredShape(shape: readonly number[]): readonly [number, number] | null {
  if (shape.length < 2) return null;
  const cols = shape[shape.length - 1]!;
  return [shape.reduce((a, b) => a * b, 1) / cols, cols];
}

/** The defaults, read by the constructor and by `stateBytes` (whether there is a first moment). */
const ADAFACTOR_DEFAULTS: Required<AdafactorOptions> = {
  lr: 1e-3,
  weightDecay: 0,
  clip: 1,
  beta1: 0,
  decayRate: -0.8,
  eps1: 1e-30,
  eps2: 1e-3,
  clipThreshold: 1,
  scaleParameter: false,
};

/** One parameter's state: R and C (factored) or V, and m when beta1 > 0. */
interface State {
  readonly r: Tensor | null;
  readonly c: Tensor | null;
  readonly v: Tensor | null;
  readonly m: Tensor | null;
}

/** Adafactor with a factored second moment (`optim`: rows + cols f32 per matrix, n per vector). */
export class Adafactor implements Optimizer {
  /** The registry name. */
  readonly name = "adafactor";
  /** The tensors this optimizer updates. */
  readonly params: readonly Tensor[];
  /** The options with every default filled. */
  readonly options: Required<AdafactorOptions>;
  #state: State[] = [];
  #t = 0;

  /** State bytes for one parameter of `shape`: (rows + cols) f32 for a matrix, n for a vector, + n with beta1. */
  static stateBytes(shape: readonly number[], options: AdafactorOptions = {}): number {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = factoredShape(shape);
    return 4 * ((f ? f[0] + f[1] : n) + ((options.beta1 ?? ADAFACTOR_DEFAULTS.beta1) > 0 ? n : 0));
  }

  /** An optimizer over `params` (throws a ValueError when there are none); state is allocated on the first step. */
  constructor(params: readonly Tensor[], options: AdafactorOptions = {}) {
    if (params.length === 0) throw new ValueError("Adafactor: no trainable parameters");
    this.params = params;
    this.options = { ...ADAFACTOR_DEFAULTS, ...options };
  }

  #allocate(): void {
    const withM = this.options.beta1 > 0;
    const made: Tensor[] = [];
    const z = (shape: readonly number[]) => {
      const t = zeros(shape, { category: "optim" });
      made.push(t);
      return t;
    };
    // All state or none: a failed allocation frees every tensor made so far.
    try {
      this.#state = this.params.map((p): State => {
        const f = factoredShape(p.shape);
        return {
          r: f ? z([f[0]]) : null,
          c: f ? z([f[1]]) : null,
          v: f ? null : z([p.size]),
          m: withM ? z([p.size]) : null,
        };
      });
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  }

  /** {@inheritDoc Optimizer.step} */
  step(lr = this.options.lr): number {
    if (this.#state.length === 0) this.#allocate();
    const norm = globalGradNorm(this.params);
    const { beta1, decayRate, eps1, eps2, clipThreshold, scaleParameter, weightDecay, clip } = this.options;
    const scale = clipScale(norm, clip);
    this.#t++;
    const beta2 = 1 - this.#t ** decayRate;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const w = p.data;
      const g = p.grad.data;
      const s = this.#state[i]!;
      const n = w.length;
      // u = g / √V̂, computed twice (its RMS for the clip, then the update) rather than held in a
      // parameter-sized scratch array: the only per-step buffers are the factored row/column sums.
      let update: (j: number) => number;
      if (s.r && s.c) {
        const R = s.r.data;
        const C = s.c.data;
        const rows = R.length;
        const cols = C.length;
        const rowSum = new Float64Array(rows);
        const colSum = new Float64Array(cols);
        for (let a = 0; a < rows; a++)
          for (let b = 0; b < cols; b++) {
            const gg = (g[a * cols + b]! * scale) ** 2 + eps1;
            rowSum[a]! += gg;
            colSum[b]! += gg;
          }
        let total = 0;
        for (let a = 0; a < rows; a++) {
          R[a] = beta2 * R[a]! + (1 - beta2) * rowSum[a]!;
          total += R[a]!;
        }
        for (let b = 0; b < cols; b++) C[b] = beta2 * C[b]! + (1 - beta2) * colSum[b]!;
        update = (j) => {
          const a = Math.floor(j / cols);
          return (g[j]! * scale) / Math.sqrt((R[a]! * C[j - a * cols]!) / total);
        };
      } else {
        const V = s.v!.data;
        for (let j = 0; j < n; j++) {
          const gj = g[j]! * scale;
          V[j] = beta2 * V[j]! + (1 - beta2) * (gj * gj + eps1);
        }
        update = (j) => (g[j]! * scale) / Math.sqrt(V[j]!);
      }
      let sq = 0;
      for (let j = 0; j < n; j++) sq += update(j) ** 2;
      const clipU = Math.max(1, Math.sqrt(sq / n) / clipThreshold);
      let alpha = lr;
      if (scaleParameter) {
        let ww = 0;
        for (let j = 0; j < n; j++) ww += w[j]! * w[j]!;
        alpha *= Math.max(eps2, Math.sqrt(ww / n));
      }
      const decay = p.rank >= 2 ? 1 - lr * weightDecay : 1;
      const m = s.m?.data;
      for (let j = 0; j < n; j++) {
        let uj = update(j) / clipU;
        if (m) {
          m[j] = beta1 * m[j]! + (1 - beta1) * uj;
          uj = m[j]!;
        }
        w[j] = w[j]! * decay - alpha * uj;
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
    for (const s of this.#state) for (const t of [s.r, s.c, s.v, s.m]) t?.dispose();
    this.#state = [];
  }
}
