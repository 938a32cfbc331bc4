/**
 * Rotary position embedding (RoPE) over the last axis of [..., T, D], forward and backward (the
 * inverse rotation). The rotation kernel and its pairing convention are in kernels/rows.ts.
 */
import { record } from "../autograd.js";
import { getBackend } from "../backend.js";
import { ShapeError } from "../errors.js";
import type { Tensor } from "../tensor.js";
import { f32, out } from "./common.js";

/**
 * Rotary position embedding on x shaped [..., T, D] (D even). `positions` gives T positions, or one
 * row of T per leading group (see the kernel). The rotation is orthogonal, so backward rotates back.
 */
export function rope(x: Tensor, positions: ArrayLike<number>, theta = 10000): Tensor {
  const T = x.dim(-2);
  const D = x.dim(-1);
  if (D % 2 !== 0) throw new ShapeError("rope", `head dimension must be even, got ${D}`);
  const outer = T * D === 0 ? 0 : x.size / (T * D);
  if (T > 0 && (positions.length % T !== 0 || outer % (positions.length / T) !== 0)) {
    throw new ShapeError("rope", `${positions.length} positions do not fit [${x.shape}]`, {
      positions: positions.length,
    });
  }
  const pos = Array.from(positions);
  const xd = f32(x, "rope");
  const o = out(x.shape);
  getBackend().rope(xd, o.data, outer, T, D, pos, theta, false);
  return record(o, "rope", [x], [], (g) => {
    const r = out(x.shape);
    getBackend().rope(g.data, r.data, outer, T, D, pos, theta, true);
    return [r];
  });
}
