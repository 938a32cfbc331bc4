/**
 * Token sampling from logits: greedy (temperature 0) or softmax at a temperature, one token per row
 * of the last axis, drawing one uniform per row from a seeded `Rng`. Runs on the backend's sampler
 * when it has one (`Backend.sample`), else the JS reference (kernels/fused.ts). Not here: top-k /
 * top-p filtering or stopping rules.
 */
import { getBackend } from "../backend.js";
import { ValueError } from "../errors.js";
import * as fusedJs from "../kernels/fused.js";
import type { Rng } from "../rng.js";
import type { Tensor } from "../tensor.js";
import { f32, rowsCols } from "./common.js";

/**
 * One token id per row of `logits` [..., V]: the argmax (first on ties) when `temperature` is 0, else a
 * draw from softmax(logits / temperature) using one `rng.uniform()` per row (none when greedy).
 */
export function sampleTokens(logits: Tensor, temperature: number, rng?: Rng): Int32Array {
  if (!(temperature >= 0)) {
    throw new ValueError(`sampleTokens: temperature must be ≥ 0 (0 = greedy), got ${temperature}`, {
      temperature,
    });
  }
  if (temperature > 0 && !rng) {
    throw new ValueError("sampleTokens: a temperature above 0 needs an rng; pass one or use temperature 0", {
      temperature,
    });
  }
  const [rows, cols] = rowsCols(logits);
  const x = f32(logits, "sampleTokens");
  const uniforms = new Float64Array(rows);
  if (temperature > 0) for (let r = 0; r < rows; r++) uniforms[r] = rng!.uniform();
  const out = new Int32Array(rows);
  (getBackend().sample ?? fusedJs.sample)({ logits: x, rows, cols, temperature, uniforms, out });
  return out;
}
