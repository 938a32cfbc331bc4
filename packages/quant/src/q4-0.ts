/**
 * `Q4_0`: llama.cpp/GGUF's 4-bit block format, byte-identical to ggml: each block of 32 weights is an
 * fp16 scale d then 16 bytes; byte j holds element j in its low nibble and element j + 16 in its high
 * nibble, codes offset by 8. Rounding follows ggml's `quantize_row_q4_0_ref`: d = m / −8 where m is
 * the signed value of largest magnitude, code = min(15, trunc(x/d + 8.5)). 18 bytes per 32 = 4.5 bits.
 * Not here: Q4_1 (with a min) or the K-quants.
 */
import { defineStrategy, ValueError } from "@tradeoffs/core-tensor";
import { ggufKernelWeight } from "./kernel-weight.js";
import { f16Lut, makeFormat, planWeights, type WeightFormat, widenX } from "./packed.js";
import { packedWeights } from "./packed-linear.js";
import { checkGgufShape, F16_MAX, putBlockScale } from "./q8-0.js";

/** Weights per block (ggml `QK4_0`). */
export const QK4_0 = 32;
/** Bytes per block: fp16 d + 16 bytes of nibbles. */
export const Q4_0_BLOCK_BYTES = 2 + QK4_0 / 2;

/** The Q4_0 weight format (ggml's byte layout), for packing weights directly. */
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
      putBlockScale(out, o, d);
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
  kernelWeight: (p) => ggufKernelWeight("q4_0", p),
  gemv(p, x, xOff, y, yOff) {
    const src = p.data;
    const h = new Uint16Array(src.buffer, src.byteOffset, src.length >> 1); // 9 u16 per block
    const lut = f16Lut();
    const nb = p.cols / QK4_0;
    const xs = widenX(x, xOff, p.cols);
    const rowHalves = nb * 9;
    let r = 0;
    // Four rows at a time share each x load; each u16 brings four codes (j, j+1 and j+16, j+17).
    for (; r + 3 < p.rows; r += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let b = 0; b < nb; b++) {
        const o0 = r * rowHalves + b * 9;
        const o1 = o0 + rowHalves;
        const o2 = o1 + rowHalves;
        const o3 = o2 + rowHalves;
        const k = b * QK4_0;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < 8; j++) {
          const kj = k + 2 * j;
          const xa = xs[kj]!;
          const xb = xs[kj + 16]!;
          const xc = xs[kj + 1]!;
          const xd = xs[kj + 17]!;
          let v = h[o0 + 1 + j]!;
          s0 +=
            ((v & 15) - 8) * xa +
            (((v >> 4) & 15) - 8) * xb +
            (((v >> 8) & 15) - 8) * xc +
            ((v >> 12) - 8) * xd;
          v = h[o1 + 1 + j]!;
          s1 +=
            ((v & 15) - 8) * xa +
            (((v >> 4) & 15) - 8) * xb +
            (((v >> 8) & 15) - 8) * xc +
            ((v >> 12) - 8) * xd;
          v = h[o2 + 1 + j]!;
          s2 +=
            ((v & 15) - 8) * xa +
            (((v >> 4) & 15) - 8) * xb +
            (((v >> 8) & 15) - 8) * xc +
            ((v >> 12) - 8) * xd;
          v = h[o3 + 1 + j]!;
          s3 +=
            ((v & 15) - 8) * xa +
            (((v >> 4) & 15) - 8) * xb +
            (((v >> 8) & 15) - 8) * xc +
            ((v >> 12) - 8) * xd;
        }
        a0 += s0 * lut[h[o0]!]!;
        a1 += s1 * lut[h[o1]!]!;
        a2 += s2 * lut[h[o2]!]!;
        a3 += s3 * lut[h[o3]!]!;
      }
      y[yOff + r] = a0;
      y[yOff + r + 1] = a1;
      y[yOff + r + 2] = a2;
      y[yOff + r + 3] = a3;
    }
    for (; r < p.rows; r++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const o = (r * nb + b) * Q4_0_BLOCK_BYTES;
        const k = b * QK4_0;
        let s0 = 0;
        for (let j = 0; j < QK4_0 / 2; j++) {
          const c = src[o + 2 + j]!;
          s0 += ((c & 15) - 8) * xs[k + j]! + ((c >> 4) - 8) * xs[k + j + 16]!;
        }
        acc += s0 * lut[src[o]! | (src[o + 1]! << 8)]!;
      }
      y[yOff + r] = acc;
    }
  },
});

/**
 * The `Q4_0` weights strategy: llama.cpp/GGUF's 4-bit blocks (32 weights + an fp16 scale, 4.5 bits), byte-
 * identical to ggml.
 */
export const q4_0 = defineStrategy({
  name: "Q4_0",
  slot: "weights",
  description: "llama.cpp/GGUF Q4_0 blocks: 32 4-bit weights + fp16 scale (4.5 bits)",
  options: {},
  plan: (p) => planWeights(p, "Q4_0", q4_0Format.bitsPerWeight, q4_0Format),
  exec: () => packedWeights(q4_0Format),
});
