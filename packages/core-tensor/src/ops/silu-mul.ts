/**
 * SwiGLU's activation as one op: silu(gate) ⊙ up, forward on the backend's fused kernel when it has
 * one (`Backend.siluMul`; else the JS reference in kernels/fused.ts), backward in JS. The same result
 * as `mul(silu(gate), up)` with one temporary instead of two. Not here: the FFN's linears.
 */
import { record } from "../autograd.js";
import { getBackend } from "../backend.js";
import { ShapeError } from "../errors.js";
import * as fusedJs from "../kernels/fused.js";
import type { Tensor } from "../tensor.js";
import { f32, out } from "./common.js";

/** silu(gate) ⊙ up for two f32 tensors of the same shape (silu(v) = v / (1 + e^−v)). */
export function siluMul(gate: Tensor, up: Tensor): Tensor {
  if (gate.shape.length !== up.shape.length || gate.shape.some((d, i) => d !== up.shape[i])) {
    throw new ShapeError("siluMul", `gate [${gate.shape}] and up [${up.shape}] must have the same shape`, {
      gate: [...gate.shape],
      up: [...up.shape],
    });
  }
  const gd = f32(gate, "siluMul");
  const ud = f32(up, "siluMul");
  const o = out(gate.shape);
  (getBackend().siluMul ?? fusedJs.siluMul)(gd, ud, o.data);
  return record(o, "siluMul", [gate, up], [gate, up], (g, [sg, su]) => {
    const x = sg!.data;
    const u = su!.data;
    const gr = g.data;
    const dGate = gate.requiresGrad ? out(gate.shape) : null;
    const dUp = up.requiresGrad ? out(up.shape) : null;
    for (let i = 0; i < gr.length; i++) {
      const s = 1 / (1 + Math.exp(-x[i]!));
      // d silu / dx = σ(x)(1 + x(1 − σ(x)))
      if (dGate) dGate.data[i] = gr[i]! * u[i]! * s * (1 + x[i]! * (1 - s));
      if (dUp) dUp.data[i] = gr[i]! * x[i]! * s;
    }
    return [dGate, dUp];
  });
}
