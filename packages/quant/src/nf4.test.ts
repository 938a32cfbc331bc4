/** NF4's table, its nearest-value coding, double quantisation and its accuracy against INT4. */
import { Rng, randn, scope, tensor } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { int4Format } from "./int4.js";
import { DQ_CHUNK, NF4_VALUES, nf4Bits, nf4Code, nf4Format } from "./nf4.js";

describe("NF4 values", () => {
  it("are QLoRA's 16 NormalFloat-4 values (bitsandbytes get_4bit_type('nf4'))", () => {
    expect(NF4_VALUES).toEqual([
      -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
      -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
      0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023,
      1.0,
    ]);
    for (let i = 1; i < 16; i++) expect(NF4_VALUES[i]!).toBeGreaterThan(NF4_VALUES[i - 1]!);
  });
  it("nf4Code maps each value to itself and anything else to the nearest value", () => {
    expect(NF4_VALUES.map((v) => nf4Code(v))).toEqual(NF4_VALUES.map((_, i) => i));
    const rng = new Rng(5);
    let wrong = 0;
    for (let t = 0; t < 2000; t++) {
      const v = 2 * rng.uniform() - 1;
      const best = Math.min(...NF4_VALUES.map((x) => Math.abs(x - v)));
      if (Math.abs(NF4_VALUES[nf4Code(v)]! - v) !== best) wrong++;
    }
    expect(wrong).toBe(0);
  });
  it("bits per weight: 4 + 8/64 + 32/(64·256) ≈ 4.127 with dq, 4.5 without", () => {
    expect(nf4Bits(64, true)).toBe(4.126953125);
    expect(nf4Bits(64, false)).toBe(4.5);
    expect(DQ_CHUNK).toBe(256);
  });
});

describe("NF4 double quantisation", () => {
  it("stores int8 absmax codes and per-256 scales plus the mean; decodes close to the dq=false form", () => {
    scope(() => {
      const w = randn([64, 512], new Rng(1), { std: 0.02 }); // 512 blocks → 2 chunks
      const plain = nf4Format({ dq: false });
      const dq = nf4Format({ dq: true });
      const a = plain.quantize(w);
      const b = dq.quantize(w);
      expect(Array.from(a.data)).toEqual(Array.from(b.data)); // same codes
      expect(b.extra.length).toBe(512);
      expect(b.scales.length).toBe(3); // 2 chunk scales + mean
      const mean = a.scales.reduce((s, v) => s + v, 0) / a.scales.length;
      expect(b.scales[2]).toBeCloseTo(mean, 6);
      const ra = plain.dequantize(a).data;
      const rb = dq.dequantize(b).data;
      let maxAbsmax = 0;
      for (const v of a.scales) maxAbsmax = Math.max(maxAbsmax, v);
      // each block's absmax moves by at most half an 8-bit step of max|absmax − mean| ≤ maxAbsmax/254
      let worst = 0;
      for (let i = 0; i < ra.length; i++) worst = Math.max(worst, Math.abs(ra[i]! - rb[i]!));
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(maxAbsmax / 254);
      a.dispose();
      b.dispose();
    });
  });
  it("beats INT4 at fewer bits on normal weights (the point of NormalFloat)", () => {
    scope(() => {
      const w = randn([64, 512], new Rng(2), { std: 0.02 });
      const rmse = (f: ReturnType<typeof nf4Format>) => {
        const p = f.quantize(w);
        const d = f.dequantize(p).data;
        let s = 0;
        for (let i = 0; i < d.length; i++) s += (d[i]! - w.data[i]!) ** 2;
        p.dispose();
        return Math.sqrt(s / d.length);
      };
      // same block size for a fair comparison
      expect(rmse(nf4Format({ block: 32, dq: false }))).toBeLessThan(rmse(int4Format({ group: 32 })));
    });
  });
  it("keeps an exact zero and the block's extremes", () => {
    scope(() => {
      const x = new Float32Array(64);
      x[0] = -2;
      x[1] = 2;
      x[2] = 0;
      const f = nf4Format({ dq: false });
      const p = f.quantize(tensor(x, [1, 64]));
      expect(f.dequantize(p).toArray().slice(0, 3)).toEqual([-2, 2, 0]);
      p.dispose();
    });
  });
});
