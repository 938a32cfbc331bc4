import { f16ToF32, f32ToF16, getLedger, ValueError } from "@tradeoffs/core-tensor";
import { expectNoLeak } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { storeRoundTrip } from "../test/store-helpers.js";
import { F16_MAX, f16Store } from "./f16-store.js";

/** fp16 rounding: half an ulp, 2⁻¹¹ relative for normal halves, 2⁻²⁵ absolute in the subnormal range. */
const FP16_REL_TOL = 2 ** -11;
const FP16_SUBNORMAL_ABS_TOL = 2 ** -25;

const roundTrip = (src: Float32Array) => storeRoundTrip(f16Store, src, 2, 1);

describe("fp16 KV store", () => {
  it("round-trips within fp16 rounding and equals core's conversion bit for bit (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, min: -F16_MAX, max: F16_MAX }), { minLength: 1, maxLength: 64 }),
        (values) => {
          const src = Float32Array.from(values);
          const back = roundTrip(src);
          for (let i = 0; i < src.length; i++) {
            const x = src[i]!;
            expect(Object.is(back[i], Math.fround(f16ToF32(f32ToF16(x))))).toBe(true);
            const tol = Math.max(Math.abs(x) * FP16_REL_TOL, FP16_SUBNORMAL_ABS_TOL);
            expect(Math.abs(back[i]! - x)).toBeLessThanOrEqual(tol);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps zeros (with sign) and representable constants exactly", () => {
    expect([...roundTrip(new Float32Array(8))]).toEqual(new Array(8).fill(0));
    expect(Object.is(roundTrip(Float32Array.of(-0))[0], -0)).toBe(true);
    for (const c of [1, -0.5, 1024, F16_MAX, 2 ** -24]) {
      expect([...roundTrip(new Float32Array(5).fill(c))]).toEqual(new Array(5).fill(c));
    }
  });

  it("charges 2 bytes per element to the ledger and frees them (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 130 }), (count, dim) => {
        expectNoLeak(() => {
          const before = getLedger().live("kv");
          const store = f16Store(count, dim, "kv");
          expect(store.bytes).toBe(2 * count * dim);
          expect(getLedger().live("kv") - before).toBe(store.bytes);
          store.dispose();
        });
      }),
    );
  });

  it("refuses finite values beyond ±65504 with a ValueError that suggests fp32 or int8", () => {
    expectNoLeak(() => {
      const store = f16Store(1, 2, "kv");
      expect(() => store.write(0, Float32Array.of(1, 70000), 0)).toThrow(ValueError);
      expect(() => store.write(0, Float32Array.of(1, -1e6), 0)).toThrow(/beyond the fp16 range.*KV\[fp32\]/);
      expect(() => store.read(1, new Float32Array(2), 0)).toThrow(/vector 1 is outside \[0, 1\)/);
      store.dispose();
    });
  });
});
