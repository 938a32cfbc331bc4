/**
 * `FP16` and `BF16`: 16-bit storage (round-to-nearest-even), f32 compute. Two bytes per weight, no
 * scales. FP16 keeps 10 mantissa bits but overflows past 65504; BF16 keeps f32's range with 7 bits.
 * Not here: mixed-precision training (the weights are frozen once packed).
 */
import { defineStrategy, f32ToBF16, f32ToF16 } from "@tradeoffs/core-tensor";
import { sixteenBitKernelWeight } from "./kernel-weight.js";
import {
  type FormatSpec,
  f16Lut,
  makeFormat,
  type PackedWeight,
  planWeights,
  type WeightFormat,
} from "./packed.js";
import { packedWeights } from "./packed-linear.js";

function u16(p: PackedWeight): Uint16Array {
  const d = p.data;
  return new Uint16Array(d.buffer, d.byteOffset, d.length >> 1);
}

/** What both 16-bit formats share: two bytes per weight, no scales, `toBits` rounding each f32. */
function sixteenBit(toBits: (v: number) => number): Pick<FormatSpec, "bitsPerWeight" | "layout" | "encode"> {
  return {
    bitsPerWeight: 16,
    layout: (rows, cols) => ({ dataBytes: 2 * rows * cols, scales: 0, extraBytes: 0 }),
    encode(w, p) {
      const h = u16(p);
      for (let i = 0; i < w.length; i++) h[i] = toBits(w[i]!);
    },
  };
}

/** IEEE half storage; decoded through a 65536-entry lookup table. */
export const fp16Format: WeightFormat = makeFormat({
  name: "FP16",
  ...sixteenBit(f32ToF16),
  kernelWeight: (p) => sixteenBitKernelWeight("f16", p),
  decodeRows(p, r0, r1, out) {
    const h = u16(p);
    const lut = f16Lut();
    const base = r0 * p.cols;
    const n = (r1 - r0) * p.cols;
    for (let i = 0; i < n; i++) out[i] = lut[h[base + i]!]!;
  },
  gemv(p, x, xOff, y, yOff) {
    const h = u16(p);
    const lut = f16Lut();
    const K = p.cols;
    for (let j = 0; j < p.rows; j++) {
      const o = j * K;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        s0 += lut[h[o + k]!]! * x[xOff + k]!;
        s1 += lut[h[o + k + 1]!]! * x[xOff + k + 1]!;
        s2 += lut[h[o + k + 2]!]! * x[xOff + k + 2]!;
        s3 += lut[h[o + k + 3]!]! * x[xOff + k + 3]!;
      }
      for (; k < K; k++) s0 += lut[h[o + k]!]! * x[xOff + k]!;
      y[yOff + j] = s0 + s1 + s2 + s3;
    }
  },
});

// Row scratch for BF16's GEMV: one row of W widened to f32 bits (bounded by a row, reused; grown on
// demand, never model state).
let bfRow = new Uint32Array(0);
let bfRowF = new Float32Array(bfRow.buffer);

/** bfloat16 storage: decoding is a 16-bit shift into the top half of an f32. */
export const bf16Format: WeightFormat = makeFormat({
  name: "BF16",
  ...sixteenBit(f32ToBF16),
  kernelWeight: (p) => sixteenBitKernelWeight("bf16", p),
  decodeRows(p, r0, r1, out) {
    const h = u16(p);
    const base = r0 * p.cols;
    const n = (r1 - r0) * p.cols;
    const o = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) o[i] = h[base + i]! << 16;
  },
  gemv(p, x, xOff, y, yOff) {
    const h = u16(p);
    const K = p.cols;
    if (bfRow.length < K) {
      bfRow = new Uint32Array(K);
      bfRowF = new Float32Array(bfRow.buffer);
    }
    const r = bfRow;
    const f = bfRowF;
    for (let j = 0; j < p.rows; j++) {
      const o = j * K;
      for (let k = 0; k < K; k++) r[k] = h[o + k]! << 16;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        s0 += f[k]! * x[xOff + k]!;
        s1 += f[k + 1]! * x[xOff + k + 1]!;
        s2 += f[k + 2]! * x[xOff + k + 2]!;
        s3 += f[k + 3]! * x[xOff + k + 3]!;
      }
      for (; k < K; k++) s0 += f[k]! * x[xOff + k]!;
      y[yOff + j] = s0 + s1 + s2 + s3;
    }
  },
});

/** The `FP16` weights strategy: IEEE half-precision weights (16 bits), computed in f32. */
export const fp16 = defineStrategy({
  name: "FP16",
  slot: "weights",
  description: "IEEE half-precision weights (16 bits), f32 compute",
  options: {},
  plan: (p) => planWeights(p, "FP16", 16, fp16Format),
  exec: () => packedWeights(fp16Format),
});

/** The `BF16` weights strategy: bfloat16 weights (16 bits, f32's exponent range), computed in f32. */
export const bf16 = defineStrategy({
  name: "BF16",
  slot: "weights",
  description: "bfloat16 weights (16 bits, f32 range), f32 compute",
  options: {},
  plan: (p) => planWeights(p, "BF16", 16, bf16Format),
  exec: () => packedWeights(bf16Format),
});
