/**
 * `NF4[block=64,dq=true]`: QLoRA's 4-bit NormalFloat. Each block of `block` inputs (within a row; the
 * last block of a row may be shorter) is scaled by its absmax and each weight snaps to the nearest of
 * the 16 NF4 values. With double quantisation (dq) the f32 block absmaxes, minus their mean, are
 * quantised again: symmetric 8-bit in chunks of 256 with one f32 scale per chunk (QLoRA §3).
 * Bits per weight: 4 + 32/block, or with dq 4 + 8/block + 32/(block·256) (+ 32 bits of mean per
 * tensor) ≈ 4.127 at block 64. Not here: bitsandbytes' dynamic 8-bit code for the second level
 * (we use linear absmax int8) or its flattened blocks that span rows.
 */
import {
  ConfigError,
  type DoubleQuantScales,
  defineStrategy,
  empty,
  NF4_TABLE,
} from "@tradeoffs/core-tensor";
import { nibbleKernelWeight } from "./kernel-weight.js";
import {
  decodeNibbleRows,
  nibbleGemv,
  nibbleRowBytes,
  pairLut,
  putNibble,
  type RowScales,
  storedRowScales,
} from "./nibbles.js";
import {
  absmax as blockAbsmax,
  groupsPerRow,
  makeFormat,
  type PackedWeight,
  planWeights,
  type WeightFormat,
} from "./packed.js";
import { packedWeights } from "./packed-linear.js";

/**
 * The 16 NormalFloat-4 values, ascending (QLoRA, Dettmers et al. 2023, appendix E; bitsandbytes
 * `get_4bit_type('nf4')`): quantiles of N(0, 1) rescaled to [−1, 1], with an exact zero. The same
 * frozen table as core-tensor's WASM dequant kernels use (`NF4_TABLE`).
 */
export const NF4_VALUES: readonly number[] = NF4_TABLE;

/** Block absmaxes per second-level (dq) chunk. */
export const DQ_CHUNK = 256;

const NF4_LUT = pairLut(NF4_VALUES.map((v) => Math.fround(v)));
/** Decision thresholds: midpoints between neighbouring NF4 values. */
const MIDPOINTS = Float64Array.from({ length: 15 }, (_, i) => (NF4_VALUES[i]! + NF4_VALUES[i + 1]!) / 2);

/** Index of the NF4 value nearest to v ∈ [−1, 1] (binary search over the midpoints). */
export function nf4Code(v: number): number {
  let lo = 0;
  let hi = 15;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v > MIDPOINTS[mid]!) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Bits per weight of NF4 for a large matrix (see the module comment). */
export function nf4Bits(block: number, dq: boolean): number {
  return dq ? 4 + 8 / block + 32 / (block * DQ_CHUNK) : 4 + 32 / block;
}

/** Codes of every block into `p.data`; block absmaxes into `absmax`; with dq, their 8-bit requantisation. */
function encodeBlocks(
  w: Float32Array,
  p: PackedWeight,
  absmax: Float32Array,
  G: number,
  block: number,
  dq: boolean,
): void {
  const K = p.cols;
  const rb = nibbleRowBytes(K);
  const n = p.rows * G;
  const data = p.data;
  for (let r = 0; r < p.rows; r++) {
    for (let b = 0; b < G; b++) {
      const k0 = b * block;
      const k1 = Math.min(K, k0 + block);
      const amax = blockAbsmax(w, r * K + k0, r * K + k1);
      absmax[r * G + b] = amax;
      const inv = amax === 0 ? 0 : 1 / amax;
      for (let k = k0; k < k1; k++) putNibble(data, r * rb, k, nf4Code(w[r * K + k]! * inv));
    }
  }
  if (!dq) return;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += absmax[i]!;
  mean = Math.fround(mean / n);
  const sc = p.scales;
  const q = new Int8Array(p.extra.buffer, p.extra.byteOffset, n);
  sc[sc.length - 1] = mean;
  for (let c0 = 0, ci = 0; c0 < n; c0 += DQ_CHUNK, ci++) {
    const c1 = Math.min(n, c0 + DQ_CHUNK);
    let m = 0;
    for (let i = c0; i < c1; i++) m = Math.max(m, Math.abs(absmax[i]! - mean));
    const s = Math.fround(m / 127);
    sc[ci] = s;
    for (let i = c0; i < c1; i++) q[i] = s === 0 ? 0 : Math.round((absmax[i]! - mean) / s);
  }
}

/** A dq=true weight's second-level scales, read in place from the layout `nf4Format` documents. */
function dqScales(p: PackedWeight): DoubleQuantScales {
  const sc = p.scales;
  return {
    codes: new Int8Array(p.extra.buffer, p.extra.byteOffset, p.extra.length),
    chunkScales: sc.subarray(0, sc.length - 1),
    chunk: DQ_CHUNK,
    mean: sc[sc.length - 1]!,
  };
}

/**
 * The NF4 weight format (absmax per `block` inputs, default 64; double-quantised scales when `dq`, default
 * true) for packing weights directly.
 */
export function nf4Format(options: { block?: number; dq?: boolean } = {}): WeightFormat {
  const block = options.block ?? 64;
  const dq = options.dq ?? true;
  if (!(Number.isInteger(block) && block >= 2 && block % 2 === 0)) {
    throw new ConfigError([`NF4: block must be an even integer ≥ 2, got ${block}`]);
  }
  // Layout: data = codes; dq=false: scales = block absmaxes [rows·G]; dq=true: extra = int8 codes of
  // (absmax − mean) [rows·G], scales = [chunk scales (ceil(rows·G / 256)), mean].
  const rowScales = (p: PackedWeight, G: number): RowScales => {
    if (!dq) return storedRowScales(p.scales, G);
    const { codes, chunkScales, mean } = dqScales(p);
    return (r, dst, off) => {
      for (let g = 0; g < G; g++) {
        const i = r * G + g;
        dst[off + g] = codes[i]! * chunkScales[(i / DQ_CHUNK) | 0]! + mean;
      }
    };
  };
  return makeFormat({
    name: `NF4[block=${block},dq=${dq}]`,
    bitsPerWeight: nf4Bits(block, dq),
    layout: (rows, cols) => {
      const n = rows * groupsPerRow(cols, block);
      return {
        dataBytes: rows * nibbleRowBytes(cols),
        scales: dq ? Math.ceil(n / DQ_CHUNK) + 1 : n,
        extraBytes: dq ? n : 0,
      };
    },
    encode(w, p) {
      const G = groupsPerRow(p.cols, block);
      const n = p.rows * G;
      // dq: the f32 absmaxes live in a transient tmp tensor (weights/block floats) until requantised.
      const staged = dq ? empty([n]) : null;
      try {
        encodeBlocks(w, p, staged ? staged.data : p.scales, G, block, dq);
      } finally {
        staged?.dispose();
      }
    },
    decodeRows(p, r0, r1, out) {
      const G = groupsPerRow(p.cols, block);
      decodeNibbleRows(p.data, p.cols, block, NF4_LUT, r0, r1, rowScales(p, G), out);
    },
    // dq: the kernel decodes scale t = code[t]·chunkScale[⌊t/256⌋] + mean itself (no per-call copy).
    kernelWeight: (p) =>
      nibbleKernelWeight(p, NF4_LUT.code, block, dq ? { dq: dqScales(p) } : { stored: p.scales }),
    gemv(p, x, xOff, y, yOff) {
      const G = groupsPerRow(p.cols, block);
      nibbleGemv(p.data, p.rows, p.cols, block, NF4_LUT, rowScales(p, G), x, xOff, y, yOff);
    },
  });
}

/**
 * The `NF4[block,dq]` weights strategy (QLoRA's 4-bit NormalFloat): absmax per `block` inputs (default 64),
 * optionally double-quantised (`dq`, default true). Frozen: train it with LoRA (`QLoRA`).
 */
export const nf4 = defineStrategy({
  name: "NF4",
  slot: "weights",
  description: "QLoRA 4-bit NormalFloat weights, absmax per block, optional double quantisation",
  options: {
    block: { type: "int", default: 64, min: 2, doc: "inputs per absmax block (even)" },
    dq: { type: "bool", default: true, doc: "double-quantise the block absmaxes (8-bit, chunks of 256)" },
  },
  rules: (o) =>
    o.block % 2 === 0 ? [] : [`NF4: block must be even (two codes share a byte), got ${o.block}`],
  plan: (p, o) => planWeights(p, "NF4", nf4Bits(o.block, o.dq), nf4Format({ block: o.block, dq: o.dq })),
  exec: (o) => packedWeights(nf4Format({ block: o.block, dq: o.dq })),
});
