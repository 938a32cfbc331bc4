/**
 * Shared kernels of the 4-bit formats with a 16-entry codebook (INT4, NF4): two codes per byte, the
 * even input in the low nibble; each row starts on a byte; one scale per group of an even number of
 * inputs. GEMV reads one byte per two weights through a 256-entry pair lookup table.
 * Not here: how codes and scales are chosen (each format's encoder).
 */
import { widenX } from "./packed.js";

/** Writes row r's G group scales into dst[off .. off + G). */
export type RowScales = (r: number, dst: Float32Array, off: number) => void;

/** RowScales for f32 scales stored row-major, G per row. */
export function storedRowScales(sc: Float32Array, G: number): RowScales {
  return (r, dst, off) => {
    for (let g = 0; g < G; g++) dst[off + g] = sc[r * G + g]!;
  };
}

// Group scales of up to four rows (4·G floats; grown on demand, reused; never model state).
let scaleScratch = new Float32Array(0);

function scalesFor(G: number): Float32Array {
  if (scaleScratch.length < 4 * G) scaleScratch = new Float32Array(4 * G);
  return scaleScratch;
}

/** Bytes of one packed row of `cols` 4-bit codes. */
export function nibbleRowBytes(cols: number): number {
  return (cols + 1) >> 1;
}

/** Lookup tables for a 16-value codebook: value of the low and of the high nibble of each byte. */
export interface PairLut {
  readonly lo: Float32Array;
  readonly hi: Float32Array;
  readonly code: Float32Array;
}

export function pairLut(codebook: ArrayLike<number>): PairLut {
  const lo = new Float32Array(256);
  const hi = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    lo[b] = codebook[b & 15]!;
    hi[b] = codebook[b >> 4]!;
  }
  return { lo, hi, code: Float32Array.from(codebook) };
}

/** Write code `c` (0..15) of input `k` into row bytes starting at `o`. */
export function putNibble(data: Uint8Array, o: number, k: number, c: number): void {
  const i = o + (k >> 1);
  data[i] = (k & 1) === 0 ? (data[i]! & 0xf0) | c : (data[i]! & 0x0f) | (c << 4);
}

/** Decode rows [r0, r1) into `out`: W[r, k] = code[nibble]·scale(r, group). */
export function decodeNibbleRows(
  data: Uint8Array,
  cols: number,
  group: number,
  lut: PairLut,
  r0: number,
  r1: number,
  rowScales: RowScales,
  out: Float32Array,
): void {
  const rb = nibbleRowBytes(cols);
  const code = lut.code;
  const scratch = scalesFor(Math.ceil(cols / group));
  for (let r = r0; r < r1; r++) {
    rowScales(r, scratch, 0);
    const o = r * rb;
    const dst = (r - r0) * cols;
    for (let k = 0; k < cols; k++) {
      const b = data[o + (k >> 1)]!;
      out[dst + k] = code[(k & 1) === 0 ? b & 15 : b >> 4]! * scratch[(k / group) | 0]!;
    }
  }
}

/**
 * y[j] = Σ_k x[k]·W[j, k] for all rows. When rows and groups are whole 32-bit words (cols and group
 * multiples of 8), four rows at a time share every x load and each Int32 load brings eight codes;
 * otherwise (and for the last rows) one byte, two weights, per step.
 */
export function nibbleGemv(
  data: Uint8Array,
  rows: number,
  cols: number,
  group: number,
  lut: PairLut,
  rowScales: RowScales,
  x: Float32Array,
  xOff: number,
  y: Float32Array,
  yOff: number,
): void {
  const lo = lut.lo;
  const hi = lut.hi;
  const G = Math.ceil(cols / group);
  const scratch = scalesFor(G);
  let j = 0;
  if (cols % 8 === 0 && group % 8 === 0 && data.byteOffset % 4 === 0) {
    const words = new Int32Array(data.buffer, data.byteOffset, data.length >> 2);
    const rw = cols >> 3; // words per row
    const gw = group >> 3; // words per group
    const xs = widenX(x, xOff, cols);
    for (; j + 3 < rows; j += 4) {
      rowScales(j, scratch, 0);
      rowScales(j + 1, scratch, G);
      rowScales(j + 2, scratch, 2 * G);
      rowScales(j + 3, scratch, 3 * G);
      const o0 = j * rw;
      const o1 = o0 + rw;
      const o2 = o1 + rw;
      const o3 = o2 + rw;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let g = 0; g < G; g++) {
        const i0 = g * gw;
        const i1 = Math.min(rw, i0 + gw);
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let i = i0; i < i1; i++) {
          const k = i << 3;
          const x0 = xs[k]!;
          const x1 = xs[k + 1]!;
          const x2 = xs[k + 2]!;
          const x3 = xs[k + 3]!;
          const x4 = xs[k + 4]!;
          const x5 = xs[k + 5]!;
          const x6 = xs[k + 6]!;
          const x7 = xs[k + 7]!;
          let v = words[o0 + i]!;
          let b0 = v & 255;
          let b1 = (v >>> 8) & 255;
          let b2 = (v >>> 16) & 255;
          let b3 = v >>> 24;
          s0 +=
            lo[b0]! * x0 +
            hi[b0]! * x1 +
            lo[b1]! * x2 +
            hi[b1]! * x3 +
            lo[b2]! * x4 +
            hi[b2]! * x5 +
            lo[b3]! * x6 +
            hi[b3]! * x7;
          v = words[o1 + i]!;
          b0 = v & 255;
          b1 = (v >>> 8) & 255;
          b2 = (v >>> 16) & 255;
          b3 = v >>> 24;
          s1 +=
            lo[b0]! * x0 +
            hi[b0]! * x1 +
            lo[b1]! * x2 +
            hi[b1]! * x3 +
            lo[b2]! * x4 +
            hi[b2]! * x5 +
            lo[b3]! * x6 +
            hi[b3]! * x7;
          v = words[o2 + i]!;
          b0 = v & 255;
          b1 = (v >>> 8) & 255;
          b2 = (v >>> 16) & 255;
          b3 = v >>> 24;
          s2 +=
            lo[b0]! * x0 +
            hi[b0]! * x1 +
            lo[b1]! * x2 +
            hi[b1]! * x3 +
            lo[b2]! * x4 +
            hi[b2]! * x5 +
            lo[b3]! * x6 +
            hi[b3]! * x7;
          v = words[o3 + i]!;
          b0 = v & 255;
          b1 = (v >>> 8) & 255;
          b2 = (v >>> 16) & 255;
          b3 = v >>> 24;
          s3 +=
            lo[b0]! * x0 +
            hi[b0]! * x1 +
            lo[b1]! * x2 +
            hi[b1]! * x3 +
            lo[b2]! * x4 +
            hi[b2]! * x5 +
            lo[b3]! * x6 +
            hi[b3]! * x7;
        }
        a0 += s0 * scratch[g]!;
        a1 += s1 * scratch[G + g]!;
        a2 += s2 * scratch[2 * G + g]!;
        a3 += s3 * scratch[3 * G + g]!;
      }
      y[yOff + j] = a0;
      y[yOff + j + 1] = a1;
      y[yOff + j + 2] = a2;
      y[yOff + j + 3] = a3;
    }
  }
  const rb = nibbleRowBytes(cols);
  const half = group >> 1;
  const fullPairs = cols >> 1;
  for (; j < rows; j++) {
    rowScales(j, scratch, 0);
    const o = j * rb;
    let acc = 0;
    for (let g = 0; g < G; g++) {
      const p0 = g * half;
      const p1 = Math.min(fullPairs, p0 + half);
      let s0 = 0;
      for (let p = p0; p < p1; p++) {
        const b = data[o + p]!;
        const k = xOff + 2 * p;
        s0 += lo[b]! * x[k]! + hi[b]! * x[k + 1]!;
      }
      acc += s0 * scratch[g]!;
    }
    if ((cols & 1) === 1) acc += lo[data[o + fullPairs]!]! * x[xOff + cols - 1]! * scratch[G - 1]!;
    y[yOff + j] = acc;
  }
}
