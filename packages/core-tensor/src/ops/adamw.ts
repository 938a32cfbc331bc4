/**
 * The AdamW parameter update on tensors: one pass over parameter, gradient and both moments on the
 * backend's kernel when it has one (`Backend.adamw`, WASM), else the JS reference (kernels/fused.ts);
 * the two agree bit for bit. Not here: the optimizer's state, step count or gradient clipping
 * (@tradeoffs/model's optimizer passes their results in).
 */
import { getBackend } from "../backend.js";
import { ShapeError } from "../errors.js";
import * as fusedJs from "../kernels/fused.js";
import type { Tensor } from "../tensor.js";
import { f32 } from "./common.js";

/** The scalars of one AdamW update (see `AdamWArgs` for their meaning). */
export interface AdamWHyper {
  /** Learning rate. */
  readonly lr: number;
  /** Decay of the first moment (e.g. 0.9). */
  readonly beta1: number;
  /** Decay of the second moment (e.g. 0.95). */
  readonly beta2: number;
  /** Added to √v̂ in the denominator. */
  readonly eps: number;
  /** Multiplies the parameter first: 1 − lr·weightDecay, or 1 for no decay. */
  readonly decay: number;
  /** Multiplies each gradient (global-norm clipping), 1 for none. */
  readonly gradScale: number;
  /** 1 − β₁ᵗ. */
  readonly bc1: number;
  /** 1 − β₂ᵗ. */
  readonly bc2: number;
}

/**
 * Update `param` and its moments `m`, `v` in place from `grad` (four f32 tensors of one size):
 * m ← β₁m + (1−β₁)g·s, v ← β₂v + (1−β₂)(g·s)², p ← p·decay − lr·(m/bc1) / (√(v/bc2) + eps).
 */
export function adamwUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, hyper: AdamWHyper): void {
  const n = param.size;
  for (const [name, t] of [
    ["grad", grad],
    ["m", m],
    ["v", v],
  ] as const) {
    if (t.size !== n) {
      throw new ShapeError("adamwUpdate", `${name} [${t.shape}] must have the parameter's ${n} elements`, {
        [name]: [...t.shape],
        param: [...param.shape],
      });
    }
  }
  const args: fusedJs.AdamWArgs = {
    ...hyper,
    param: f32(param, "adamwUpdate"),
    grad: f32(grad, "adamwUpdate"),
    m: f32(m, "adamwUpdate"),
    v: f32(v, "adamwUpdate"),
  };
  (getBackend().adamw ?? fusedJs.adamw)(args);
}
