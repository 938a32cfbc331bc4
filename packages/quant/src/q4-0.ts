/**
 * `Q4_0`: llama.cpp/GGUF's 4-bit block format, byte-identical to ggml: each block of 32 weights is an
 * fp16 scale d then 16 bytes; byte j holds element j in its low nibble and element j + 16 in its high
 * nibble, codes offset by 8. Rounding follows ggml's `quantize_row_q4_0_ref`: d = m / −8 where m is
 * the signed value of largest magnitude, code = min(15, trunc(x/d + 8.5)). 18 bytes per 32 = 4.5 bits.
 * Not here: Q4_1 (with a min) or the K-quants.
 */
import { defineStrategy, f32ToF16, type Tensor, ValueError } from "@tradeoffs/core-tensor";
import { f16Lut, makeFormat, planWeights, type WeightFormat } from "./packed.js";
import { PackedLinear } from "./packed-linear.js";
import { checkGgufShape } from "./q8-0.js";

/** Weights per block (ggml `QK4_0`). */
export const QK4_0 = 32;
/** Bytes per block: fp16 d + 16 bytes of nibbles. */
export const Q4_0_BLOCK_BYTES = 2 + QK4_0 / 2;
const F16_MAX = 65504;

export const q4_0Format: WeightFormat = makeFormat({
  name: "Q4_0",
  bitsPerWeight: (8 * Q4_0_BLOCK_BYTES) / QK4_0,
  checkShape: (rows, cols) => checkGgufShape("Q4_0", rows, cols, QK4_0),
  layout: (rows, cols) => ({ dataBytes: (rows * cols * Q4_0_BLOCK_BYTES) / QK4_0, scales: 0, extraBytes: 0 }),
  encode(w, p) {
    const out = p.data;
    const nb = w.length / QK4_0;
    for (let i = 0; i < nb; i++) {
      const x = i * QK4_0;
      let amax = 0;
      let max = 0;
      for (let j = 0; j < QK4_0; j++) {
        const v = w[x + j]!;
        if (amax < Math.abs(v)) {
          amax = Math.abs(v);
          max = v;
        }
      }
      const d = Math.fround(max / -8);
      if (Math.abs(d) > F16_MAX) {
        const row = Math.floor(x / p.cols);
        throw new ValueError(
          `Q4_0.quantize: block at weight[${row}, ${x - row * p.cols}] has absmax ${amax}, whose scale overflows fp16 (max ${F16_MAX}); rescale the weight`,
          { row, col: x - row * p.cols, absmax: amax },
        );
      }
      const id = d !== 0 ? Math.fround(1 / d) : 0;
      const o = i * Q4_0_BLOCK_BYTES;
      const h = f32ToF16(d);
      out[o] = h & 0xff;
      out[o + 1] = h >>> 8;
      for (let j = 0; j < QK4_0 / 2; j++) {
        const x0 = Math.fround(w[x + j]! * id);
        const x1 = Math.fround(w[x + QK4_0 / 2 + j]! * id);
        // (int8_t)(x + 8.5f): truncation toward zero of an f32 sum in [0.5, 16.5]
        const c0 = Math.min(15, Math.trunc(Math.fround(x0 + 8.5)));
        const c1 = Math.min(15, Math.trunc(Math.fround(x1 + 8.5)));
        out[o + 2 + j] = c0 | (c1 << 4);
      }
    }
  },
  decodeRows(p, r0, r1, out) {
    const src = p.data;
    const lut = f16Lut();
    const b0 = (r0 * p.cols) / QK4_0;
    const b1 = (r1 * p.cols) / QK4_0;
    for (let i = b0; i < b1; i++) {
      const o = i * Q4_0_BLOCK_BYTES;
      const d = lut[src[o]! | (src[o + 1]! << 8)]!;
      const y = (i - b0) * QK4_0;
      for (let j = 0; j < QK4_0 / 2; j++) {
        const b = src[o + 2 + j]!;
        out[y + j] = ((b & 15) - 8) * d;
        out[y + j + QK4_0 / 2] = ((b >> 4) - 8) * d;
      }
    }
  },
  gemv(p, x, xOff, y, yOff) {
    const src = p.data;
    const lut = f16Lut();
    const nb = p.cols / QK4_0;
    for (let r = 0; r < p.rows; r++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const o = (r * nb + b) * Q4_0_BLOCK_BYTES;
        const k = xOff + b * QK4_0;
        let s0 = 0;
        let s1 = 0;
        for (let j = 0; j < QK4_0 / 2; j++) {
          const c = src[o + 2 + j]!;
          s0 += ((c & 15) - 8) * x[k + j]!;
          s1 += ((c >> 4) - 8) * x[k + j + 16]!;
        }
        acc += (s0 + s1) * lut[src[o]! | (src[o + 1]! << 8)]!;
      }
      y[yOff + r] = acc;
    }
  },
});

export const q4_0 = defineStrategy({
  name: "Q4_0",
  slot: "weights",
  description: "llama.cpp/GGUF Q4_0 blocks: 32 4-bit weights + fp16 scale (4.5 bits)",
  options: {},
  plan: (p) => planWeights(p, "Q4_0", q4_0Format.bitsPerWeight, q4_0Format),
  exec: () => ({
    format: q4_0Format,
    pack: (w: Tensor, category: string) => new PackedLinear(q4_0Format, w, category),
  }),
});
