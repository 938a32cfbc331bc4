/**
 * A synthetic stack for tests and the bench: L residual blocks x + W2·silu(W1·rmsNorm(x)), built from
 * core-tensor ops, run under any segment schedule. A stand-in for transformer layers, not a model
 * (no attention, no embeddings); not exported from the package index.
 */
import {
  add,
  backward,
  getLedger,
  matmul,
  ones,
  Rng,
  randn,
  rmsNorm,
  scope,
  silu,
  type Tensor,
} from "@tradeoffs/core-tensor";
import type { Segments } from "../src/memory-model.js";
import { type Layer, runSegments } from "../src/run-segments.js";

export interface ResidualStackSpec {
  readonly layers: number;
  /** Model width d. */
  readonly width: number;
  /** Hidden width of the block's MLP. */
  readonly hidden: number;
  readonly seed: number;
}

export class ResidualStack {
  readonly spec: ResidualStackSpec;
  /** Per layer: norm weight [d], W1 [hidden, d], W2 [d, hidden] (category `weights/ffn`). */
  readonly norms: Tensor[] = [];
  readonly w1: Tensor[] = [];
  readonly w2: Tensor[] = [];
  readonly layers: readonly Layer[];

  constructor(spec: ResidualStackSpec) {
    this.spec = spec;
    const rng = new Rng(spec.seed);
    const opts = { category: "weights/ffn", requiresGrad: true } as const;
    for (let l = 0; l < spec.layers; l++) {
      this.norms.push(ones([spec.width], opts));
      this.w1.push(randn([spec.hidden, spec.width], rng, { ...opts, std: 1 / Math.sqrt(spec.width) }));
      this.w2.push(randn([spec.width, spec.hidden], rng, { ...opts, std: 0.5 / Math.sqrt(spec.hidden) }));
    }
    this.layers = this.norms.map((_, l) => (x: Tensor) => this.block(l, x));
  }

  /** x [T, d] → x + W2·silu(W1·rmsNorm(x)) [T, d]. */
  block(l: number, x: Tensor): Tensor {
    const n = rmsNorm(x, this.norms[l]!); // [T, d]
    const h = matmul(n, this.w1[l]!, { transB: true }); // [T, hidden]
    const y = matmul(silu(h), this.w2[l]!, { transB: true }); // [T, d]
    return add(x, y);
  }

  parameters(): Tensor[] {
    return [...this.norms, ...this.w1, ...this.w2];
  }

  /** Run the stack under `segments` (`[]` = no checkpointing). */
  forward(x: Tensor, segments: Segments): Tensor {
    return runSegments(this.layers, x, segments);
  }

  /**
   * One forward + backward with upstream gradient `dy` [T, d] (no loss head, so the ledger's `act`
   * holds the stack's saved tensors only). Gradients accumulate into each parameter's `.grad`.
   */
  step(x: Tensor, dy: Tensor, segments: Segments): void {
    scope(() => {
      const y = this.forward(x, segments);
      backward(y, { grad: dy });
    });
  }

  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}

/**
 * Bytes layer 0 saves for backward without checkpointing (measured in the ledger's `act`) and the
 * bytes of its input, for input `x` [T, d]: the `layerActBytes` / `layerInputBytes` of the schedules.
 */
export function measureLayerBytes(stack: ResidualStack, x: Tensor): { act: number; input: number } {
  const ledger = getLedger();
  const act = scope(() => {
    const before = ledger.live("act");
    const y = stack.block(0, x);
    const saved = ledger.live("act") - before;
    y.dispose();
    return saved;
  });
  return { act, input: x.bytes };
}
