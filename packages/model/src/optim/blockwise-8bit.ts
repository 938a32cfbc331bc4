/**
 * Blockwise 8-bit storage of an optimizer state tensor (Dettmers et al., "8-bit Optimizers via
 * Block-wise Quantization", ICLR 2022, §2): the tensor is cut into blocks of 2048 elements, each block
 * is divided by its absolute maximum, and every element is stored as the index (u8) of the nearest of
 * 256 code values: a dynamic (tree) map, precise for both small and large magnitudes, or a linear one.
 * Not here: the optimizer update (adamw8bit.ts).
 */
import { type Tensor, ValueError, zeros } from "@tradeoffs/core-tensor";

/** Elements per quantisation block (bitsandbytes' blockwise optimizer kernels use 2048). */
export const BLOCK_8BIT = 2048;

const blocks = (n: number): number => Math.ceil(n / BLOCK_8BIT);

/**
 * Tensors with fewer elements keep 32-bit state (bitsandbytes `Optimizer2State(min_8bit_size=4096)`):
 * norms and small vectors are not worth a block scale.
 */
export const MIN_8BIT_SIZE = 4096;

/** The code maps an 8-bit state can use. */
export const QUANT_MAPS = ["dynamic", "linear"] as const;
/** How the 256 codes are spread over [−1, 1] (signed) or [0, 1] (unsigned). */
export type QuantMap = (typeof QUANT_MAPS)[number];

/**
 * Dynamic (tree) map: after the sign, a run of e zero bits and a one bit set the decade 10^−e, and
 * the remaining bits split (0.1, 1] of that decade linearly (midpoints). Signed: 7 bits, decades
 * 0..6 (64 + 32 + … + 1 = 127 magnitudes per sign); unsigned: 8 bits, decades 0..6 (128 + … + 2 = 254).
 * Both add 0 and 1, so a block's absmax is stored exactly.
 */
function dynamicCodes(signed: boolean): number[] {
  const magnitudeBits = signed ? 7 : 8;
  const mags: number[] = [];
  for (let e = 0; e < 7; e++) {
    const count = 2 ** (magnitudeBits - 1 - e);
    for (let i = 0; i < count; i++) {
      const lo = 0.1 + (0.9 * i) / count;
      const hi = 0.1 + (0.9 * (i + 1)) / count;
      mags.push(((lo + hi) / 2) * 10 ** -e);
    }
  }
  return signed ? [0, 1, ...mags, ...mags.map((m) => -m)] : [0, 1, ...mags];
}

/** Linear map: 256 evenly spaced codes over [−1, 1] (signed, no exact 0) or [0, 1] (unsigned), both ends exact. */
function linearCodes(signed: boolean): number[] {
  const lo = signed ? -1 : 0;
  return Array.from({ length: 256 }, (_, i) => lo + ((1 - lo) * i) / 255);
}

const codeCache = new Map<string, Float32Array>();

/** The 256 code values of a map, sorted ascending (shared, do not write). */
export function quantCodes(map: QuantMap, signed: boolean): Float32Array {
  const key = `${map}/${signed}`;
  let codes = codeCache.get(key);
  if (!codes) {
    if (!QUANT_MAPS.includes(map))
      throw new ValueError(`unknown 8-bit map '${String(map)}'; use one of ${QUANT_MAPS.join(", ")}`);
    codes = Float32Array.from((map === "dynamic" ? dynamicCodes : linearCodes)(signed)).sort();
    if (codes.length !== 256) throw new Error(`${key}: ${codes.length} codes, expected 256`);
    codeCache.set(key, codes);
  }
  return codes;
}

/** Index of the code nearest to `x` (ties to the lower code). */
export function nearestCode(codes: Float32Array, x: number): number {
  let lo = 0;
  let hi = codes.length - 1;
  if (x <= codes[lo]!) return lo;
  if (x >= codes[hi]!) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (codes[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return x - codes[lo]! <= codes[hi]! - x ? lo : hi;
}

/** Ledger bytes of one 8-bit state of `n` elements: one code byte each plus an f32 absmax per block. */
export function blockwise8bitBytes(n: number): number {
  return n + 4 * blocks(n);
}

/**
 * One state tensor of `n` elements stored blockwise in 8 bits under `category`: codes (u8 [n]) and
 * absmax scales (f32 [⌈n/2048⌉]). All zeros when made.
 */
export class Blockwise8bit {
  /** Elements stored. */
  readonly n: number;
  /** One code index per element (u8 [n]). */
  readonly codes: Tensor;
  /** One absmax per block of 2048 (f32 [⌈n/2048⌉]). */
  readonly scales: Tensor;
  readonly #map: Float32Array;
  readonly #signed: boolean;

  /** `n` zeros under `category`; `signed` picks the map's signed (first moment) or unsigned half. */
  constructor(n: number, map: QuantMap, signed: boolean, category: string) {
    this.n = n;
    this.#signed = signed;
    this.#map = quantCodes(map, signed);
    this.codes = zeros([n], { dtype: "u8", category });
    try {
      this.scales = zeros([blocks(n)], { category }); // absmax 0: every element decodes to 0
    } catch (e) {
      this.codes.dispose();
      throw e;
    }
  }

  /** Ledger bytes held (codes + scales). */
  get bytes(): number {
    return this.codes.bytes + this.scales.bytes;
  }

  /** Decode block `b` into `dst[0 .. len)`; returns len. */
  load(b: number, dst: Float32Array): number {
    const start = b * BLOCK_8BIT;
    const len = Math.min(BLOCK_8BIT, this.n - start);
    const codes = this.codes.values as Uint8Array;
    const scale = this.scales.data[b]!;
    for (let i = 0; i < len; i++) dst[i] = this.#map[codes[start + i]!]! * scale;
    return len;
  }

  /** Encode `src[0 .. len)` as block `b`: absmax scale, then the nearest code of each element / absmax. */
  store(b: number, src: Float32Array, len: number): void {
    const start = b * BLOCK_8BIT;
    let absmax = 0;
    for (let i = 0; i < len; i++) absmax = Math.max(absmax, Math.abs(src[i]!));
    this.scales.data[b] = absmax;
    const codes = this.codes.values as Uint8Array;
    const inv = absmax > 0 ? 1 / absmax : 0;
    // Unsigned (a second moment): a positive value never encodes as 0, which would turn Adam's
    // m/√v into m/ε on the next step; it takes the smallest positive code (index 1) instead.
    for (let i = 0; i < len; i++) {
      const c = nearestCode(this.#map, src[i]! * inv);
      codes[start + i] = !this.#signed && c === 0 && src[i]! > 0 ? 1 : c;
    }
  }

  /** Free codes and scales. */
  dispose(): void {
    this.codes.dispose();
    this.scales.dispose();
  }
}
