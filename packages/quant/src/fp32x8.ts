/**
 * `FP32x8`: f32 weights, frozen, in the tiled `f32x8` layout (core-tensor's `packF32x8`: blocks of 64
 * rows, segments of 256 columns, tiles of 8 rows). The values and their bytes are FP32's (plus zero
 * padding to 8 rows and 4 columns); only the order changes, so that a decode GEMV reads W as one stream
 * with x in L1 (the WASM kernel `gemvF32x8`). An inference layout, as llama.cpp repacks weights for its
 * CPU kernels: nothing here trains. Not here: the trainable FP32 weight (fp32.ts).
 */
import {
  defineStrategy,
  f32x8Floats,
  gemvF32x8Js,
  packF32x8,
  unpackF32x8Rows,
  ValueError,
} from "@tradeoffs/core-tensor";
import type { KernelWeight } from "./kernel-weight.js";
import { makeFormat, type PackedWeight, planWeights, type WeightFormat } from "./packed.js";
import { packedWeights } from "./packed-linear.js";

/** The packed bytes as f32 (the ledger's u8 storage is allocated 4-byte aligned). */
function f32(p: PackedWeight): Float32Array {
  const d = p.data;
  if (d.byteOffset % 4 !== 0) {
    throw new ValueError(`FP32x8: packed storage at byte offset ${d.byteOffset} is not 4-byte aligned`, {
      offset: d.byteOffset,
    });
  }
  return new Float32Array(d.buffer, d.byteOffset, d.length >> 2);
}

const nothing = (): void => {};

/** f32 weights in the tiled `f32x8` layout: FP32's values, read by the tiled GEMV. */
export const fp32x8Format: WeightFormat = makeFormat({
  name: "FP32x8",
  bitsPerWeight: 32,
  layout: (rows, cols) => ({ dataBytes: 4 * f32x8Floats(rows, cols), scales: 0, extraBytes: 0 }),
  encode(w, p) {
    packF32x8(w, p.rows, p.cols, f32(p));
  },
  decodeRows(p, r0, r1, out) {
    unpackF32x8Rows(f32(p), p.rows, p.cols, r0, r1, out);
  },
  gemv(p, x, xOff, y, yOff) {
    gemvF32x8Js(f32(p), p.rows, p.cols, x, xOff, y, yOff);
  },
  kernelWeight: (p): KernelWeight => ({ weight: { format: "f32x8", data: p.data }, release: nothing }),
});

/**
 * The `FP32x8` weights strategy (`FP32x8` in configurations): FP32's values, frozen, in the tiled
 * layout of the decode GEMV. For inference; training leaves the weights as they are (as with every
 * packed format).
 */
export const fp32x8 = defineStrategy({
  name: "FP32x8",
  slot: "weights",
  description: "f32 weights, frozen, tiled for the decode GEMV (32 bits)",
  options: {},
  plan: (p) => planWeights(p, "FP32x8", fp32x8Format.bitsPerWeight, fp32x8Format),
  exec: () => packedWeights(fp32x8Format),
});
