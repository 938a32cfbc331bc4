/**
 * `Q8_0`: llama.cpp/GGUF's 8-bit block format, byte-identical to ggml: each block of 32 weights is an
 * fp16 scale d (little-endian) followed by 32 int8 codes, 34 bytes, blocks laid out row by row.
 * Rounding follows ggml's `quantize_row_q8_0_ref`: d = absmax/127, q = roundf(x·(1/d)) in f32.
 * Bits per weight: 34·8/32 = 8.5. Not here: Q8_1 or the K-quants.
 */
import { defineStrategy, f32ToF16, ShapeError, ValueError } from "@tradeoffs/core-tensor";
import { ggufKernelWeight } from "./kernel-weight.js";
import { absmax, f16Lut, makeFormat, planWeights, type WeightFormat, widenX } from "./packed.js";
import { packedWeights } from "./packed-linear.js";

/** Weights per block (ggml `QK8_0`). */
export const QK8_0 = 32;
/** Bytes per block: fp16 d + 32 int8. */
export const Q8_0_BLOCK_BYTES = 2 + QK8_0;
/** Largest finite fp16 value (the bound on a GGUF block scale). */
export const F16_MAX = 65504;

/** C's roundf: half away from zero. */
export function roundf(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** Store a GGUF block's scale d at `out[o]` as little-endian fp16. */
export function putBlockScale(out: Uint8Array, o: number, d: number): void {
  const h = f32ToF16(d);
  out[o] = h & 0xff;
  out[o + 1] = h >>> 8;
}

export function checkGgufShape(name: string, rows: number, cols: number, qk: number): void {
  if (cols % qk !== 0) {
    throw new ShapeError(
      `${name}.quantize`,
      `the input width ${cols} is not a multiple of the ${qk}-weight block; use a width divisible by ${qk} or another format`,
      { rows, cols, block: qk },
    );
  }
}

/** The Q8_0 weight format (ggml's byte layout), for packing weights directly. */
export const q8_0Format: WeightFormat = makeFormat({
  name: "Q8_0",
  bitsPerWeight: (8 * Q8_0_BLOCK_BYTES) / QK8_0,
  checkShape: (rows, cols) => checkGgufShape("Q8_0", rows, cols, QK8_0),
  layout: (rows, cols) => ({ dataBytes: (rows * cols * Q8_0_BLOCK_BYTES) / QK8_0, scales: 0, extraBytes: 0 }),
  encode(w, p) {
    const out = p.data;
    const qs = new Int8Array(out.buffer, out.byteOffset, out.length);
    const nb = w.length / QK8_0;
    for (let i = 0; i < nb; i++) {
      const x = i * QK8_0;
      const amax = absmax(w, x, x + QK8_0);
      const d = Math.fround(amax / 127);
      if (d > F16_MAX) {
        const row = Math.floor(x / p.cols);
        throw new ValueError(
          `Q8_0.quantize: block at weight[${row}, ${x - row * p.cols}] has absmax ${amax}, whose scale ${d} overflows fp16 (max ${F16_MAX}); rescale the weight`,
          { row, col: x - row * p.cols, absmax: amax },
        );
      }
      const id = d !== 0 ? Math.fround(1 / d) : 0;
      const o = i * Q8_0_BLOCK_BYTES;
      putBlockScale(out, o, d);
      for (let j = 0; j < QK8_0; j++) qs[o + 2 + j] = roundf(Math.fround(w[x + j]! * id));
    }
  },
  decodeRows(p, r0, r1, out) {
    const src = p.data;
    const qs = new Int8Array(src.buffer, src.byteOffset, src.length);
    const lut = f16Lut();
    const b0 = (r0 * p.cols) / QK8_0;
    const b1 = (r1 * p.cols) / QK8_0;
    for (let i = b0; i < b1; i++) {
      const o = i * Q8_0_BLOCK_BYTES;
      const d = lut[src[o]! | (src[o + 1]! << 8)]!;
      const y = (i - b0) * QK8_0;
      for (let j = 0; j < QK8_0; j++) out[y + j] = qs[o + 2 + j]! * d;
    }
  },
  kernelWeight: (p) => ggufKernelWeight("q8_0", p),
  gemv(p, x, xOff, y, yOff) {
    const src = p.data;
    const h = new Int16Array(src.buffer, src.byteOffset, src.length >> 1); // 17 i16 per block
    const lut = f16Lut();
    const nb = p.cols / QK8_0;
    const xs = widenX(x, xOff, p.cols);
    const rowHalves = nb * 17;
    let r = 0;
    // Four rows at a time share each x load; each i16 brings two int8 codes (low byte first).
    for (; r + 3 < p.rows; r += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let b = 0; b < nb; b++) {
        const o0 = r * rowHalves + b * 17;
        const o1 = o0 + rowHalves;
        const o2 = o1 + rowHalves;
        const o3 = o2 + rowHalves;
        const k = b * QK8_0;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < 16; j++) {
          const xa = xs[k + 2 * j]!;
          const xb = xs[k + 2 * j + 1]!;
          let v = h[o0 + 1 + j]!;
          s0 += ((v << 24) >> 24) * xa + (v >> 8) * xb;
          v = h[o1 + 1 + j]!;
          s1 += ((v << 24) >> 24) * xa + (v >> 8) * xb;
          v = h[o2 + 1 + j]!;
          s2 += ((v << 24) >> 24) * xa + (v >> 8) * xb;
          v = h[o3 + 1 + j]!;
          s3 += ((v << 24) >> 24) * xa + (v >> 8) * xb;
        }
        a0 += s0 * lut[h[o0]! & 0xffff]!;
        a1 += s1 * lut[h[o1]! & 0xffff]!;
        a2 += s2 * lut[h[o2]! & 0xffff]!;
        a3 += s3 * lut[h[o3]! & 0xffff]!;
      }
      y[yOff + r] = a0;
      y[yOff + r + 1] = a1;
      y[yOff + r + 2] = a2;
      y[yOff + r + 3] = a3;
    }
    const qs = new Int8Array(src.buffer, src.byteOffset, src.length);
    for (; r < p.rows; r++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const o = (r * nb + b) * Q8_0_BLOCK_BYTES;
        const k = b * QK8_0;
        let s0 = 0;
        for (let j = 0; j < QK8_0; j++) s0 += qs[o + 2 + j]! * xs[k + j]!;
        acc += s0 * lut[src[o]! | (src[o + 1]! << 8)]!;
      }
      y[yOff + r] = acc;
    }
  },
});

/**
 * The `Q8_0` weights strategy: llama.cpp/GGUF's 8-bit blocks (32 int8 weights + an fp16 scale, 8.5 bits),
 * byte-identical to ggml.
 */
export const q8_0 = defineStrategy({
  name: "Q8_0",
  slot: "weights",
  description: "llama.cpp/GGUF Q8_0 blocks: 32 int8 weights + fp16 scale (8.5 bits)",
  options: {},
  plan: (p) => planWeights(p, "Q8_0", q8_0Format.bitsPerWeight, q8_0Format),
  exec: () => packedWeights(q8_0Format),
});
