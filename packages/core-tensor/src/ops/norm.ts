/**
 * RMSNorm and LayerNorm over the last axis, forward and backward. The forward saves each row's
 * reciprocal standard deviation (and LayerNorm its mean) so backward does not recompute them.
 */
import { record } from "../autograd.js";
import { getBackend } from "../backend.js";
import { ShapeError } from "../errors.js";
import { rmsNormBackward } from "../kernels/rows.js";
import type { Tensor } from "../tensor.js";
import { f32, out, rowsCols } from "./common.js";

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w. */
export function rmsNorm(x: Tensor, w: Tensor, eps = 1e-5): Tensor {
  const [rows, cols] = rowsCols(x);
  if (w.rank !== 1 || w.dim(0) !== cols) {
    throw new ShapeError("rmsNorm", `weight must be [${cols}] for input [${x.shape}], got [${w.shape}]`);
  }
  const xd = f32(x, "rmsNorm");
  const wd = f32(w, "rmsNorm");
  const o = out(x.shape);
  const rstd = out([rows]);
  getBackend().rmsNorm(xd, wd, o.data, rows, cols, eps, rstd.data);
  const res = record(o, "rmsNorm", [x, w], [x, w, rstd], (g, [sx, sw, sr]) => {
    const gx = x.requiresGrad ? out(x.shape) : null;
    const gw = w.requiresGrad ? out(w.shape) : null;
    // The backend's kernel when it has one (bit-identical to the reference loop in kernels/rows.ts).
    (getBackend().rmsNormBackward ?? rmsNormBackward)({
      x: sx!.data,
      w: sw!.data,
      rstd: sr!.data,
      g: g.data,
      rows,
      cols,
      gx: gx?.data ?? null,
      gw: gw?.data ?? null,
    });
    return [gx, gw];
  });
  rstd.dispose();
  return res;
}

/** LayerNorm over the last axis: (x − mean) / std · w + b. */
export function layerNorm(x: Tensor, w: Tensor, b: Tensor, eps = 1e-5): Tensor {
  const [rows, cols] = rowsCols(x);
  if (w.size !== cols || b.size !== cols) {
    throw new ShapeError("layerNorm", `weight and bias must be [${cols}], got [${w.shape}] and [${b.shape}]`);
  }
  const xd = f32(x, "layerNorm");
  const wd = f32(w, "layerNorm");
  const bd = f32(b, "layerNorm");
  const o = out(x.shape);
  const mu = out([rows]);
  const rstd = out([rows]);
  getBackend().layerNorm(xd, wd, bd, o.data, rows, cols, eps, mu.data, rstd.data);
  const res = record(o, "layerNorm", [x, w, b], [x, w, mu, rstd], (g, [sx, sw, sm, sr]) => {
    const xd = sx!.data;
    const wd = sw!.data;
    const md = sm!.data;
    const rs = sr!.data;
    const gd = g.data;
    const gx = x.requiresGrad ? out(x.shape) : null;
    const gw = w.requiresGrad ? out(w.shape) : null;
    const gb = b.requiresGrad ? out(b.shape) : null;
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      const r = rs[i]!;
      let sumD = 0;
      let sumDX = 0;
      for (let j = 0; j < cols; j++) {
        const xh = (xd[base + j]! - md[i]!) * r;
        const d = gd[base + j]! * wd[j]!;
        sumD += d;
        sumDX += d * xh;
        if (gw) gw.data[j] = gw.data[j]! + gd[base + j]! * xh;
        if (gb) gb.data[j] = gb.data[j]! + gd[base + j]!;
      }
      if (gx) {
        const gxd = gx.data;
        for (let j = 0; j < cols; j++) {
          const xh = (xd[base + j]! - md[i]!) * r;
          gxd[base + j] = r * (gd[base + j]! * wd[j]! - sumD / cols - (xh * sumDX) / cols);
        }
      }
    }
    return [gx, gw, gb];
  });
  mu.dispose();
  rstd.dispose();
  return res;
}
