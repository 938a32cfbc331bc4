/**
 * `INT8[group=0]`: symmetric absmax 8-bit weights, one f32 scale per output channel (group = 0) or per
 * group of `group` inputs. q = round(w / s), s = absmax / 127, so |w − q·s| ≤ absmax / 254.
 * Not here: activation quantisation (x stays f32; the GEMV multiplies int8 weights by f32 inputs).
 */
import { defineStrategy } from "@tradeoffs/core-tensor";
import {
  absmax,
  groupsPerRow,
  makeFormat,
  type PackedWeight,
  planWeights,
  type WeightFormat,
  widenX,
} from "./packed.js";
import { packedWeights } from "./packed-linear.js";

/** Input width assumed by `bitsPerWeight` for per-channel formats (a 7B model's dModel). */
export const NOMINAL_COLS = 4096;

function i8(p: PackedWeight): Int8Array {
  const d = p.data;
  return new Int8Array(d.buffer, d.byteOffset, d.length);
}

/** Symmetric int8 quantisation of `w[o .. o+n)` into `q`; returns the f32 scale. */
function quantizeGroup(w: Float32Array, q: Int8Array, o: number, n: number): number {
  const s = Math.fround(absmax(w, o, o + n) / 127);
  if (s === 0) {
    q.fill(0, o, o + n);
    return 0;
  }
  for (let k = 0; k < n; k++) {
    const v = Math.round(w[o + k]! / s);
    q[o + k] = Math.max(-127, Math.min(127, v));
  }
  return s;
}

/**
 * The fast GEMV (K and the group multiples of 4): four rows at a time share each x load, and each
 * Int32 load brings four int8 weights, unpacked with shifts. Rows left over go to `gemvBytes`.
 */
function gemvWords(
  p: PackedWeight,
  g: number,
  x: Float32Array,
  xOff: number,
  y: Float32Array,
  yOff: number,
): void {
  const K = p.cols;
  const N = p.rows;
  const G = groupsPerRow(K, g === K ? 0 : g);
  const d = p.data;
  const w = new Int32Array(d.buffer, d.byteOffset, d.length >> 2);
  const sc = p.scales;
  const xs = widenX(x, xOff, K);
  const K4 = K >> 2;
  const g4 = g >> 2;
  let j = 0;
  for (; j + 3 < N; j += 4) {
    const o0 = j * K4;
    const o1 = o0 + K4;
    const o2 = o1 + K4;
    const o3 = o2 + K4;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let b = 0; b < G; b++) {
      const i0 = b * g4;
      const i1 = Math.min(K4, i0 + g4);
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = i0; i < i1; i++) {
        const k = i << 2;
        const x0 = xs[k]!;
        const x1 = xs[k + 1]!;
        const x2 = xs[k + 2]!;
        const x3 = xs[k + 3]!;
        let v = w[o0 + i]!;
        s0 += ((v << 24) >> 24) * x0 + ((v << 16) >> 24) * x1 + ((v << 8) >> 24) * x2 + (v >> 24) * x3;
        v = w[o1 + i]!;
        s1 += ((v << 24) >> 24) * x0 + ((v << 16) >> 24) * x1 + ((v << 8) >> 24) * x2 + (v >> 24) * x3;
        v = w[o2 + i]!;
        s2 += ((v << 24) >> 24) * x0 + ((v << 16) >> 24) * x1 + ((v << 8) >> 24) * x2 + (v >> 24) * x3;
        v = w[o3 + i]!;
        s3 += ((v << 24) >> 24) * x0 + ((v << 16) >> 24) * x1 + ((v << 8) >> 24) * x2 + (v >> 24) * x3;
      }
      a0 += s0 * sc[j * G + b]!;
      a1 += s1 * sc[(j + 1) * G + b]!;
      a2 += s2 * sc[(j + 2) * G + b]!;
      a3 += s3 * sc[(j + 3) * G + b]!;
    }
    y[yOff + j] = a0;
    y[yOff + j + 1] = a1;
    y[yOff + j + 2] = a2;
    y[yOff + j + 3] = a3;
  }
  if (j < N) gemvBytes(p, g, j, x, xOff, y, yOff);
}

/** The plain GEMV (any K and group) over rows [j0, rows): one int8 load per weight. */
function gemvBytes(
  p: PackedWeight,
  g: number,
  j0: number,
  x: Float32Array,
  xOff: number,
  y: Float32Array,
  yOff: number,
): void {
  const q = i8(p);
  const sc = p.scales;
  const K = p.cols;
  const G = groupsPerRow(K, g === K ? 0 : g);
  for (let j = j0; j < p.rows; j++) {
    const o = j * K;
    let acc = 0;
    for (let b = 0; b < G; b++) {
      const k1 = Math.min(K, b * g + g);
      let s0 = 0;
      let s1 = 0;
      let k = b * g;
      for (; k + 1 < k1; k += 2) {
        s0 += q[o + k]! * x[xOff + k]!;
        s1 += q[o + k + 1]! * x[xOff + k + 1]!;
      }
      if (k < k1) s0 += q[o + k]! * x[xOff + k]!;
      acc += (s0 + s1) * sc[j * G + b]!;
    }
    y[yOff + j] = acc;
  }
}

/** The INT8 format with `group` inputs per scale (0 = one scale per output channel). */
export function int8Format(options: { group?: number } = {}): WeightFormat {
  const group = options.group ?? 0;
  const bits = 8 + 32 / (group === 0 ? NOMINAL_COLS : group);
  return makeFormat({
    name: `INT8[group=${group}]`,
    bitsPerWeight: bits,
    layout: (rows, cols) => ({
      dataBytes: rows * cols,
      scales: rows * groupsPerRow(cols, group),
      extraBytes: 0,
    }),
    encode(w, p) {
      const q = i8(p);
      const sc = p.scales;
      const K = p.cols;
      const g = group === 0 ? K : group;
      const G = groupsPerRow(K, group);
      for (let r = 0; r < p.rows; r++) {
        for (let b = 0; b < G; b++) {
          const o = r * K + b * g;
          sc[r * G + b] = quantizeGroup(w, q, o, Math.min(g, K - b * g));
        }
      }
    },
    decodeRows(p, r0, r1, out) {
      const q = i8(p);
      const sc = p.scales;
      const K = p.cols;
      const g = group === 0 ? K : group;
      const G = groupsPerRow(K, group);
      for (let r = r0; r < r1; r++) {
        for (let b = 0; b < G; b++) {
          const s = sc[r * G + b]!;
          const k0 = b * g;
          const k1 = Math.min(K, k0 + g);
          const src = r * K;
          const dst = (r - r0) * K;
          for (let k = k0; k < k1; k++) out[dst + k] = q[src + k]! * s;
        }
      }
    },
    gemv(p, x, xOff, y, yOff) {
      const K = p.cols;
      const g = group === 0 ? K : group;
      if (K % 4 === 0 && g % 4 === 0) gemvWords(p, g, x, xOff, y, yOff);
      else gemvBytes(p, g, 0, x, xOff, y, yOff);
    },
    // Codes and scales in place: the backend's `i8` layout (group = K for one scale per row).
    kernelWeight: (p) => ({
      weight: { format: "i8", data: p.data, group: group === 0 ? p.cols : group, scales: p.scales },
      release: () => {},
    }),
  });
}

/**
 * The `INT8[group]` weights strategy: 8-bit symmetric weights with one f32 scale per `group` inputs (default
 * 0: one per output channel), dequantised on the fly.
 */
export const int8 = defineStrategy({
  name: "INT8",
  slot: "weights",
  description: "8-bit symmetric absmax weights, per output channel or per group of inputs",
  options: {
    group: { type: "int", default: 0, min: 0, doc: "inputs per scale; 0 = one scale per output channel" },
  },
  plan: (p, o) =>
    planWeights(
      p,
      "INT8",
      8 + 32 / (o.group === 0 ? p.arch.dModel : o.group),
      int8Format({ group: o.group }),
    ),
  exec: (o) => packedWeights(int8Format({ group: o.group })),
});
