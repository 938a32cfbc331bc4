/**
 * The seeded RNG: golden values pin the stream across runs and machines (computed by an independent
 * Python implementation of xoshiro128** with this file's splitmix-style seeding), plus range and
 * moment checks for the derived distributions.
 */
import { describe, expect, it } from "vitest";
import { ValueError } from "./errors.js";
import { Rng } from "./rng.js";

describe("Rng", () => {
  it("produces the golden first u32s for fixed seeds", () => {
    const golden: Record<number, number[]> = {
      0: [3809008728, 1133695204, 53579671, 2891528803, 139681546],
      1: [2442144158, 3238099751, 3819917871, 2104621829, 2021136066],
      42: [2837322924, 544945897, 479756282, 3500138142, 339756180],
    };
    for (const [seed, want] of Object.entries(golden)) {
      const r = new Rng(Number(seed));
      expect(want.map(() => r.nextU32())).toEqual(want);
    }
  });

  it("is deterministic per seed and differs between seeds", () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const c = new Rng(124);
    const sa = Array.from({ length: 100 }, () => a.normal());
    expect(Array.from({ length: 100 }, () => b.normal())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.normal())).not.toEqual(sa);
    const f1 = new Rng(5).fork();
    const f2 = new Rng(5).fork();
    expect(f1.nextU32()).toBe(f2.nextU32());
  });

  it("uniform is in [0, 1) with mean 1/2; int(n) covers [0, n)", () => {
    const r = new Rng(9);
    const N = 50_000;
    let s = 0;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < N; i++) {
      const u = r.uniform();
      s += u;
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // σ of the mean is 1/√(12N) ≈ 0.0013; allow 5σ.
    expect(Math.abs(s / N - 0.5)).toBeLessThan(0.0065);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[r.int(7)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800); // expected 1000 each
    expect(() => r.int(0)).toThrow(ValueError);
    expect(() => r.int(2.5)).toThrow(/positive integer, got 2.5/);
  });

  it("normal has mean ≈ 0 and std ≈ 1; exponential has mean ≈ 1/rate", () => {
    const r = new Rng(11);
    const N = 50_000;
    let s = 0;
    let s2 = 0;
    let e = 0;
    for (let i = 0; i < N; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
      e += r.exponential(4);
    }
    const mean = s / N;
    // σ of the mean is 1/√N ≈ 0.0045 and of the variance ≈ √(2/N) ≈ 0.0063; allow 5σ.
    expect(Math.abs(mean)).toBeLessThan(0.023);
    expect(Math.abs(Math.sqrt(s2 / N - mean * mean) - 1)).toBeLessThan(0.032);
    expect(Math.abs(e / N - 0.25)).toBeLessThan(0.25 * 0.023);
  });

  it("rejects seeds that are not safe integers", () => {
    expect(() => new Rng(1.5)).toThrow(/safe integer, got 1.5/);
    expect(() => new Rng(2 ** 60)).toThrow(ValueError);
    expect(new Rng(-3).nextU32()).toBeTypeOf("number");
  });
});

describe("Rng.fillNormal", () => {
  it("draws exactly the stream normal() draws, across odd lengths and a pending spare", () => {
    for (const lengths of [[5], [4, 3], [1, 1, 7], [0, 6]]) {
      const a = new Rng(42);
      const b = new Rng(42);
      for (const n of lengths) {
        const fast = new Float32Array(n);
        a.fillNormal(fast, 0.5, 0.02);
        const slow = Float32Array.from({ length: n }, () => 0.5 + 0.02 * b.normal());
        expect(fast).toEqual(slow);
      }
      expect(a.normal()).toBe(b.normal());
      expect(a.nextU32()).toBe(b.nextU32());
    }
  });
});
