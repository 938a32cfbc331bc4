/**
 * `INT4[group=32]`: symmetric 4-bit weights, codes q ∈ [−7, 7] stored as q + 8 (two per byte, the
 * even input in the low nibble), one f32 scale s = absmax / 7 per group of inputs (0 = per row).
 * |w − q·s| ≤ absmax / 14. Not here: asymmetric (zero-point) INT4 or GPTQ-style error correction.
 */
import { ConfigError, defineStrategy } from "@tradeoffs/core-tensor";
import { NOMINAL_COLS } from "./int8.js";
import { nibbleKernelWeight } from "./kernel-weight.js";
import {
  decodeNibbleRows,
  nibbleGemv,
  nibbleRowBytes,
  pairLut,
  putNibble,
  storedRowScales,
} from "./nibbles.js";
import { absmax, groupsPerRow, makeFormat, planWeights, type WeightFormat } from "./packed.js";
import { packedWeights } from "./packed-linear.js";

/** Code c (0..15) → value c − 8 (c = 0 is never written). */
const INT4_LUT = pairLut(Array.from({ length: 16 }, (_, c) => c - 8));

/** The INT4 format with `group` inputs per scale (even; 0 = one scale per row). */
export function int4Format(options: { group?: number } = {}): WeightFormat {
  const group = options.group ?? 32;
  if (group % 2 !== 0) {
    throw new ConfigError([`INT4: group must be even (two codes share a byte) or 0, got ${group}`]);
  }
  const bits = 4 + 32 / (group === 0 ? NOMINAL_COLS : group);
  // G groups per row of g inputs each (group 0: one even-width group spanning the row)
  const prep = (cols: number) => ({
    G: groupsPerRow(cols, group),
    g: group === 0 ? Math.max(2, cols + (cols & 1)) : group,
  });
  return makeFormat({
    name: `INT4[group=${group}]`,
    bitsPerWeight: bits,
    layout: (rows, cols) => ({
      dataBytes: rows * nibbleRowBytes(cols),
      scales: rows * groupsPerRow(cols, group),
      extraBytes: 0,
    }),
    encode(w, p) {
      const K = p.cols;
      const { G, g } = prep(K);
      const rb = nibbleRowBytes(K);
      const data = p.data;
      const sc = p.scales;
      for (let r = 0; r < p.rows; r++) {
        for (let b = 0; b < G; b++) {
          const k0 = b * g;
          const k1 = Math.min(K, k0 + g);
          const s = Math.fround(absmax(w, r * K + k0, r * K + k1) / 7);
          sc[r * G + b] = s;
          for (let k = k0; k < k1; k++) {
            const q = s === 0 ? 0 : Math.max(-7, Math.min(7, Math.round(w[r * K + k]! / s)));
            putNibble(data, r * rb, k, q + 8);
          }
        }
      }
    },
    decodeRows(p, r0, r1, out) {
      const { G, g } = prep(p.cols);
      decodeNibbleRows(p.data, p.cols, g, INT4_LUT, r0, r1, storedRowScales(p.scales, G), out);
    },
    kernelWeight: (p) => nibbleKernelWeight(p, INT4_LUT.code, prep(p.cols).g, { stored: p.scales }),
    gemv(p, x, xOff, y, yOff) {
      const { G, g } = prep(p.cols);
      nibbleGemv(p.data, p.rows, p.cols, g, INT4_LUT, storedRowScales(p.scales, G), x, xOff, y, yOff);
    },
  });
}

/**
 * The `INT4[group]` weights strategy: 4-bit symmetric weights, two per byte, one f32 scale per `group`
 * inputs (default 32; 0: one per row), dequantised on the fly.
 */
export const int4 = defineStrategy({
  name: "INT4",
  slot: "weights",
  description: "4-bit symmetric weights, two per byte, one scale per group of inputs",
  options: {
    group: { type: "int", default: 32, min: 0, doc: "inputs per scale (even); 0 = one scale per row" },
  },
  rules: (o) =>
    o.group % 2 === 0 ? [] : [`INT4: group must be even (two codes share a byte) or 0, got ${o.group}`],
  plan: (p, o) =>
    planWeights(
      p,
      "INT4",
      4 + 32 / (o.group === 0 ? p.arch.dModel : o.group),
      int4Format({ group: o.group }),
    ),
  exec: (o) => packedWeights(int4Format({ group: o.group })),
});
