/**
 * `FP32`: weights kept as f32 [out, in] and trained directly. The oracle for every quantised format.
 * On a backend with resident memory (WASM) the weight is placed there when packed, so products read
 * it in place (`withResidentWeights`); the tensor, its category and its bytes are the same.
 */
import {
  clone,
  defineStrategy,
  getBackend,
  type LinearWeight,
  matmul,
  ShapeError,
  type Tensor,
  type WeightsCost,
  withResidentWeights,
} from "@tradeoffs/core-tensor";

/** An f32 linear weight (trainable). */
export class Fp32Linear implements LinearWeight {
  /** Always `FP32`. */
  readonly format = "FP32";
  /** The trainable f32 weight [out, in] (a copy of the one packed). */
  readonly weight: Tensor;
  /** Input width. */
  readonly inFeatures: number;
  /** Output width. */
  readonly outFeatures: number;

  constructor(w: Tensor, category: string) {
    if (w.rank !== 2) throw new ShapeError("FP32.pack", `weight must be [out, in], got [${w.shape}]`);
    this.weight = withResidentWeights(getBackend(), () => clone(w, { category }));
    this.weight.requiresGrad = true;
    this.weight.name = w.name;
    this.outFeatures = w.dim(0);
    this.inFeatures = w.dim(1);
  }

  /** Bytes of `weight`. */
  get bytes(): number {
    return this.weight.bytes;
  }

  /** x [..., in] · Wᵀ → [..., out]; differentiable in x and W. */
  apply(x: Tensor): Tensor {
    return matmul(x, this.weight, { transB: true });
  }

  /** `[weight]`. */
  parameters(): Tensor[] {
    return [this.weight];
  }

  /** `weight` itself (owned by this layer). */
  f32Weight(): Tensor {
    return this.weight;
  }

  /** A copy of `weight` in `tmp` (the caller disposes it). */
  dequantize(): Tensor {
    return clone(this.weight, { category: "tmp" });
  }

  /** Releases `weight`. */
  dispose(): void {
    this.weight.dispose();
  }
}

/** FP32's costs: 4 bytes per weight, trained in place, products straight from the f32 tensor. */
const fp32Cost: WeightsCost = Object.freeze({
  format: "FP32",
  bitsPerWeight: 32,
  bytesFor: (out: number, inp: number) => 4 * out * inp,
  trainable: true,
  workspaceElements: () => 0,
});

/**
 * The `FP32` weights strategy (`fp32()`, `FP32` in configurations): 32-bit float weights, the reference
 * every other format is tested against.
 */
export const fp32 = defineStrategy({
  name: "FP32",
  slot: "weights",
  description: "32-bit float weights (the reference)",
  options: {},
  plan: (p) => ({ ...p, weights: fp32Cost }),
  exec: () => ({ pack: (w: Tensor, category: string) => new Fp32Linear(w, category) }),
});
