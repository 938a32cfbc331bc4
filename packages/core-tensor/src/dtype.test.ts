/**
 * Tests of the dtype traits table and the f16/bf16 conversions. The oracle for rounding is written
 * here independently: exact power-of-two scaling in f64 (every f32, f16 and bf16 value is exactly a
 * double), then round-half-to-even on the scaled value.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bf16ToF32, dtypeTraits, f16ToF32, f32ToBF16, f32ToF16, rowBytes, TENSOR_DTYPES } from "./dtype.js";
import { DTypeError } from "./errors.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function fromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

/** Exponent e with 2^e ≤ a < 2^(e+1), for a finite a > 0 (exact, no log rounding). */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  return e;
}

function roundHalfEven(q: number): number {
  const fl = Math.floor(q);
  const d = q - fl; // exact: q has at most 53 significant bits and fl shares its exponent range
  if (d > 0.5) return fl + 1;
  if (d < 0.5) return fl;
  return fl % 2 === 0 ? fl : fl + 1;
}

/** Reference rounding of a double to a binary float with `mant` fraction bits and min normal exponent `emin`. */
function refRound(v: number, mant: number, emin: number, overflowAt: number): number {
  if (Number.isNaN(v)) return Number.NaN;
  const sign = v < 0 || Object.is(v, -0) ? -1 : 1;
  const a = Math.abs(v);
  if (a === Number.POSITIVE_INFINITY) return sign * a;
  if (a === 0) return sign * 0;
  const e = Math.max(exponentOf(a), emin);
  const ulp = 2 ** (e - mant);
  const r = roundHalfEven(a / ulp) * ulp;
  if (r >= overflowAt) return sign * Number.POSITIVE_INFINITY;
  return sign * r;
}
const refF16 = (v: number) => refRound(v, 10, -14, 2 ** 16);
const refBF16 = (v: number) => refRound(v, 7, -126, 2 ** 128);

/** Independent decode of half bits: sign · 2^(e−15) · (1 + m/1024), subnormals 2^−14 · m/1024. */
function refDecodeF16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return e === 0 ? s * 2 ** -14 * (m / 1024) : s * 2 ** (e - 15) * (1 + m / 1024);
}

function sameValue(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

const RUNS = 20_000;

describe("f16", () => {
  it("decodes every one of the 65536 bit patterns exactly, and re-encodes each non-NaN to itself", () => {
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = f16ToF32(h);
      if (!sameValue(v, refDecodeF16(h)) || (!Number.isNaN(v) && f32ToF16(v) !== h)) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it("rounds any f32 bit pattern to nearest-even like the reference (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        const v = fromBits(bits);
        return sameValue(f16ToF32(f32ToF16(v)), refF16(v));
      }),
      { numRuns: RUNS },
    );
  });

  it("rounds exact ties to the even neighbour, in normals and subnormals (property)", () => {
    // Midpoints between consecutive halves are exact f32 values: (v(h) + v(h+1)) / 2.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7bfe }), fc.boolean(), (h, neg) => {
        const mid = (f16ToF32(h) + f16ToF32(h + 1)) / 2;
        expect(Math.fround(mid)).toBe(mid);
        const want = h % 2 === 0 ? h : h + 1;
        const got = f32ToF16(neg ? -mid : mid);
        return got === (neg ? want | 0x8000 : want);
      }),
      { numRuns: RUNS },
    );
  });

  it("handles NaN, ±Inf, ±0, subnormals and overflow", () => {
    expect(Number.isNaN(f16ToF32(f32ToF16(Number.NaN)))).toBe(true);
    expect(f32ToF16(fromBits(0x7f800001)) & 0x7c00).toBe(0x7c00); // signalling NaN stays NaN
    expect(f32ToF16(fromBits(0x7f800001)) & 0x3ff).not.toBe(0);
    expect(f32ToF16(Number.POSITIVE_INFINITY)).toBe(0x7c00);
    expect(f32ToF16(Number.NEGATIVE_INFINITY)).toBe(0xfc00);
    expect(f32ToF16(0)).toBe(0);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(2 ** -24)).toBe(1); // smallest subnormal
    expect(f32ToF16(2 ** -25)).toBe(0); // exactly half of it: tie to even (0)
    expect(f32ToF16(Math.fround(2 ** -25 * 1.0001))).toBe(1);
    expect(f32ToF16(-(2 ** -26))).toBe(0x8000); // underflow keeps the sign
    expect(f32ToF16(65504)).toBe(0x7bff); // max half
    expect(f32ToF16(65519)).toBe(0x7bff); // below the midpoint to 2^16
    expect(f32ToF16(65520)).toBe(0x7c00); // the midpoint rounds to even: Inf
    expect(f32ToF16(-1e6)).toBe(0xfc00);
    expect(f32ToF16(2 ** -14 - 2 ** -25)).toBe(0x400); // rounds up from subnormal into the min normal
  });
});

describe("bf16", () => {
  it("decodes every bit pattern to the f32 with those upper 16 bits", () => {
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = bf16ToF32(h);
      if (!sameValue(v, fromBits(h << 16)) || (!Number.isNaN(v) && f32ToBF16(v) !== h)) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it("rounds any f32 bit pattern to nearest-even like the reference (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        const v = fromBits(bits);
        return sameValue(bf16ToF32(f32ToBF16(v)), refBF16(v));
      }),
      { numRuns: RUNS },
    );
  });

  it("rounds exact ties to even", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7f7e }), (h) => {
        const mid = fromBits((h << 16) | 0x8000);
        const want = h % 2 === 0 ? h : h + 1;
        return f32ToBF16(mid) === want && f32ToBF16(-mid) === (want | 0x8000);
      }),
      { numRuns: RUNS },
    );
  });

  it("handles NaN (stays a quiet NaN, never becomes Inf), ±Inf, ±0, subnormals and overflow", () => {
    for (const bits of [0x7f800001, 0x7fc00000, 0xffffffff, 0x7f80ffff]) {
      const h = f32ToBF16(fromBits(bits));
      expect(Number.isNaN(bf16ToF32(h)), `0x${bits.toString(16)}`).toBe(true);
      expect(h & 0x40).toBe(0x40);
    }
    expect(f32ToBF16(Number.POSITIVE_INFINITY)).toBe(0x7f80);
    expect(f32ToBF16(Number.NEGATIVE_INFINITY)).toBe(0xff80);
    expect(f32ToBF16(-0)).toBe(0x8000);
    expect(f32ToBF16(fromBits(0x00000001))).toBe(0); // tiny subnormal rounds to 0
    expect(f32ToBF16(fromBits(0x00018000))).toBe(0x0002); // subnormal tie to even (1.5 → 2)
    expect(f32ToBF16(fromBits(0x7f7fffff))).toBe(0x7f80); // max f32 overflows to Inf
    expect(f32ToBF16(fromBits(0x7f7f7fff))).toBe(0x7f7f); // just below the midpoint stays finite
  });
});

describe("traits table", () => {
  it("has bits, block size and bytes per block for every tensor dtype", () => {
    const want: Record<string, [number, number, number]> = {
      f32: [32, 1, 4],
      f16: [16, 1, 2],
      bf16: [16, 1, 2],
      i8: [8, 1, 1],
      u8: [8, 1, 1],
      i32: [32, 1, 4],
    };
    for (const d of TENSOR_DTYPES) {
      const t = dtypeTraits(d);
      expect([t.bits, t.blockSize, t.bytesPerBlock], d).toEqual(want[d]);
      expect(rowBytes(d, 10)).toBe(10 * want[d]![2]);
    }
  });

  it("round-trips values through each element type's toFloat/fromFloat (with clamping for ints)", () => {
    const src = Float32Array.from([0, 1, -2.5, 100.4, -300, 1e6]);
    const expected: Record<string, number[]> = {
      f32: [0, 1, -2.5, Math.fround(100.4), -300, 1e6],
      f16: [0, 1, -2.5, 100.375, -300, Number.POSITIVE_INFINITY],
      bf16: [0, 1, -2.5, 100.5, -300, 999424],
      i8: [0, 1, -2, 100, -128, 127],
      u8: [0, 1, 0, 100, 0, 255],
      i32: [0, 1, -2, 100, -300, 1e6],
    };
    for (const d of TENSOR_DTYPES) {
      const t = dtypeTraits(d);
      const raw = new Uint8Array(rowBytes(d, src.length));
      t.fromFloat(src, raw);
      const back = new Float32Array(src.length);
      t.toFloat(raw, back);
      expect([...back], d).toEqual(expected[d]);
    }
  });

  it("decodes from unaligned byte views", () => {
    const raw = new Uint8Array(1 + 8);
    new DataView(raw.buffer).setFloat32(1, 1.5, true);
    new DataView(raw.buffer).setFloat32(5, -2, true);
    const out = new Float32Array(2);
    dtypeTraits("f32").toFloat(raw.subarray(1), out);
    expect([...out]).toEqual([1.5, -2]);
  });

  it("rowBytes rejects negative and fractional counts; an unknown name lists the known ones", () => {
    expect(() => rowBytes("f32", -1)).toThrow(DTypeError);
    expect(() => rowBytes("f32", 1.5)).toThrow(DTypeError);
    expect(() => dtypeTraits("f64")).toThrow(/unknown dtype 'f64'; known: f32, f16, bf16/);
  });
});
