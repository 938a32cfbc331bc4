/**
 * Run a stack of layers under a segment schedule: each segment goes through core's `checkpoint()`
 * (its forward saves only its input; backward re-runs it), free layers run as they are. Knows nothing
 * about which schedule is good (`ckpt.ts`) or what a layer is.
 */
import { checkpoint, type Tensor } from "@tradeoffs/core-tensor";
import { type Segments, scheduleItems } from "./memory-model.js";

/** One layer: x [..., d] → [..., d]. Must be deterministic (it may run twice). */
export type Layer = (x: Tensor) => Tensor;

/** x → layers[L−1](… layers[0](x)), segments under `checkpoint()`. Returns the last output. */
export function runSegments(layers: readonly Layer[], x: Tensor, segments: Segments): Tensor {
  let h = x;
  for (const it of scheduleItems(layers.length, segments)) {
    if (it.kind === "free") {
      h = layers[it.start]!(h);
      continue;
    }
    const run = (input: Tensor): Tensor => {
      let y = input;
      for (let l = it.start; l < it.end; l++) y = layers[l]!(y);
      return y;
    };
    h = checkpoint(run, [h]);
  }
  return h;
}
