import { getLedger, ValueError } from "@tradeoffs/core-tensor";
import { expectNoLeak } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { storeRoundTrip } from "../test/store-helpers.js";
import { f32Store } from "./f32-store.js";
import { INT8_QMAX, int8Store, quantizeAbsmaxInt8 } from "./int8-store.js";

/**
 * Per-element round-trip bound of symmetric absmax int8: half a quantisation step, absmax/127/2.
 * The factor 1 + 2⁻²⁰ and the 1e-38 floor cover f32 rounding of the stored scale and of q·scale
 * (relative 2⁻²⁴ each) and scales that underflow f32 for subnormal-sized vectors.
 */
const int8RoundTripTolerance = (absmax: number) => (absmax / INT8_QMAX / 2) * (1 + 2 ** -20) + 1e-38;

/** Generated magnitudes stay below 1e30 so absmax/127 and q·scale stay finite in f32. */
const F32_RANGE_MAX = Math.fround(1e30);
const F32_RANGE_MIN = -F32_RANGE_MAX;

const f32Vector = (maxLength = 64) =>
  fc
    .array(fc.float({ noNaN: true, noDefaultInfinity: true, min: F32_RANGE_MIN, max: F32_RANGE_MAX }), {
      minLength: 1,
      maxLength,
    })
    .map((a) => Float32Array.from(a));

const roundTrip = (src: Float32Array) => storeRoundTrip(int8Store, src, 3, 1);

describe("int8 KV store (symmetric absmax per vector)", () => {
  it("round-trips every element within absmax/127/2 of the f32 oracle (property)", () => {
    fc.assert(
      fc.property(f32Vector(), (src) => {
        const exact = storeRoundTrip(f32Store, src, 3, 2);
        const back = roundTrip(src);
        const absmax = exact.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        const tol = int8RoundTripTolerance(absmax);
        for (let i = 0; i < src.length; i++) expect(Math.abs(back[i]! - exact[i]!)).toBeLessThanOrEqual(tol);
      }),
      { numRuns: 300 },
    );
  });

  it("uses the full symmetric range: some |q| is 127 and none exceeds it (property)", () => {
    fc.assert(
      fc.property(f32Vector(), (src) => {
        const q = new Int8Array(src.length);
        const scale = quantizeAbsmaxInt8(src, 0, src.length, q, 0);
        const maxQ = q.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        if (scale === 0) expect(maxQ).toBe(0);
        else expect(maxQ).toBe(INT8_QMAX);
        expect(q.every((x) => x >= -INT8_QMAX)).toBe(true);
      }),
    );
  });

  it("stores zero vectors exactly with scale 0", () => {
    const src = new Float32Array(16);
    const q = new Int8Array(16).fill(5);
    expect(quantizeAbsmaxInt8(src, 0, 16, q, 0)).toBe(0);
    expect([...q]).toEqual(new Array(16).fill(0));
    expect([...roundTrip(src)]).toEqual(new Array(16).fill(0));
  });

  it("stores constant vectors as one repeated value within the tolerance (property)", () => {
    fc.assert(
      fc.property(
        fc.float({ noNaN: true, noDefaultInfinity: true, min: F32_RANGE_MIN, max: F32_RANGE_MAX }),
        fc.integer({ min: 1, max: 40 }),
        (c, n) => {
          const back = roundTrip(new Float32Array(n).fill(c));
          expect(new Set(back).size).toBe(1);
          expect(Math.abs(back[0]! - Math.fround(c))).toBeLessThanOrEqual(
            int8RoundTripTolerance(Math.abs(c)),
          );
        },
      ),
    );
  });

  it("charges exactly values plus scales to the ledger and frees them (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 130 }), (count, dim) => {
        expectNoLeak(() => {
          const before = getLedger().live("kv");
          const store = int8Store(count, dim, "kv");
          expect(store.bytes).toBe(count * dim + 4 * count);
          expect(getLedger().live("kv") - before).toBe(store.bytes);
          store.dispose();
        });
      }),
    );
  });

  it("refuses NaN and ±Inf with a ValueError naming the vector, leaving the old value", () => {
    expectNoLeak(() => {
      const store = int8Store(2, 4, "kv");
      const good = Float32Array.of(1, -2, 3, 0.5);
      store.write(0, good, 0);
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const src = Float32Array.of(1, bad, 3, 4);
        expect(() => store.write(0, src, 0)).toThrow(ValueError);
        expect(() => store.write(0, src, 0)).toThrow(/vector 0 holds (NaN|Infinity)/);
      }
      const back = new Float32Array(4);
      store.read(0, back, 0);
      for (let i = 0; i < 4; i++)
        expect(Math.abs(back[i]! - good[i]!)).toBeLessThanOrEqual(int8RoundTripTolerance(3));
      store.dispose();
    });
  });

  it("rejects bad indices and sizes with ValueErrors naming the valid range", () => {
    expectNoLeak(() => {
      const store = int8Store(2, 4, "kv");
      expect(() => store.read(2, new Float32Array(4), 0)).toThrow(/vector 2 is outside \[0, 2\)/);
      expect(() => store.write(-1, new Float32Array(4), 0)).toThrow(ValueError);
      store.dispose();
    });
    expect(() => int8Store(0, 4, "kv")).toThrow(/count must be a positive integer, got 0/);
    expect(() => int8Store(3, 1.5, "kv")).toThrow(/dim must be a positive integer, got 1.5/);
  });

  it("reads and writes at offsets inside larger buffers", () => {
    expectNoLeak(() => {
      const store = int8Store(4, 3, "kv");
      const src = Float32Array.of(9, 9, 1, -1, 0.5, 9);
      store.write(3, src, 2);
      const dst = new Float32Array(7).fill(7);
      store.read(3, dst, 3);
      expect([...dst.subarray(0, 3)]).toEqual([7, 7, 7]);
      expect(dst[6]).toBe(7);
      expect(dst[3]).toBeCloseTo(1, 6);
      expect(dst[4]).toBeCloseTo(-1, 6);
      store.dispose();
    });
  });
});
