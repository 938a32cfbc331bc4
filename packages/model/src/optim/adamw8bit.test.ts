/**
 * 8-bit AdamW's quantised path: the blockwise codec (maps, nearest code, round-trip error bound) and
 * the optimizer against f32 AdamW on a 64×80 tensor (3 blocks of 2048, the last partial) with a named
 * tolerance. The f32 path under 4096 elements is in the contract suite (optimizers.test.ts).
 */
import { Rng, tensor } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { AdamW } from "./adamw.js";
import { AdamW8bit } from "./adamw8bit.js";
import {
  BLOCK_8BIT,
  Blockwise8bit,
  blockwise8bitBytes,
  nearestCode,
  QUANT_MAPS,
  quantCodes,
} from "./blockwise-8bit.js";

/**
 * 8-bit (dynamic map) vs f32 AdamW after 10 steps at lr 1e-2 on gradients spanning three decades:
 * mean |Δw| within 5% of lr·steps; no element further than lr·steps (Adam moves an element by about
 * lr per step, so this bounds every element to at most one step's worth of drift per step).
 */
const MEAN_TOL = 0.05;
const MAX_TOL = 1;

describe("blockwise 8-bit codec", () => {
  it.each(QUANT_MAPS.flatMap((m) => [[m, true] as const, [m, false] as const]))(
    "%s map (signed %s): 256 sorted distinct codes holding the ends exactly, and 0 unless linear signed",
    (map, signed) => {
      const c = quantCodes(map, signed);
      expect(c.length).toBe(256);
      for (let i = 1; i < 256; i++) expect(c[i]!).toBeGreaterThan(c[i - 1]!);
      if (!(signed && map === "linear")) expect(c).toContain(0);
      expect(c[255]).toBe(1);
      if (!signed) expect(c[0]).toBe(0);
      else if (map === "linear") expect(c[0]).toBe(-1);
      if (signed) expect(c[0]!).toBeLessThan(-0.99);
    },
  );

  it("nearestCode picks the closest code (checked against a linear scan)", () => {
    const c = quantCodes("dynamic", true);
    const rng = new Rng(3);
    for (let k = 0; k < 2000; k++) {
      const x = rng.uniform() * 2.2 - 1.1;
      let best = 0;
      for (let i = 1; i < 256; i++) if (Math.abs(c[i]! - x) < Math.abs(c[best]! - x)) best = i;
      expect(Math.abs(c[nearestCode(c, x)]! - x)).toBe(Math.abs(c[best]! - x));
    }
  });

  it("round-trips a block within half the widest code gap × absmax; the dynamic map is finer near 0", () => {
    const n = BLOCK_8BIT + 100;
    const src = new Float32Array(n);
    new Rng(5).fillNormal(src, 0, 1);
    for (const map of QUANT_MAPS) {
      const s = new Blockwise8bit(n, map, true, "optim");
      const codes = quantCodes(map, true);
      let gap = 0;
      for (let i = 1; i < 256; i++) gap = Math.max(gap, codes[i]! - codes[i - 1]!);
      const out = new Float32Array(BLOCK_8BIT);
      for (const b of [0, 1]) {
        const len = Math.min(BLOCK_8BIT, n - b * BLOCK_8BIT);
        const block = src.subarray(b * BLOCK_8BIT, b * BLOCK_8BIT + len);
        s.store(b, Float32Array.from(block), len);
        const absmax = block.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
        expect(s.load(b, out)).toBe(len);
        for (let i = 0; i < len; i++)
          expect(Math.abs(out[i]! - block[i]!)).toBeLessThanOrEqual(((gap / 2) * (1 + 1e-4) + 1e-6) * absmax);
      }
      expect(s.bytes).toBe(blockwise8bitBytes(n));
      expect(s.bytes).toBe(n + 2 * 4);
      s.dispose();
    }
    // Small values: 1e-3 of the absmax survives the dynamic map within 10%; the linear map's nearest code is off by over 100%.
    const dyn = quantCodes("dynamic", true);
    const lin = quantCodes("linear", true);
    expect(Math.abs(dyn[nearestCode(dyn, 1e-3)]! - 1e-3) / 1e-3).toBeLessThan(0.1);
    expect(Math.abs(lin[nearestCode(lin, 1e-3)]! - 1e-3) / 1e-3).toBeGreaterThan(1);
  });
});

/** 8-bit AdamW with `map` and f32 AdamW from the same start and gradients: |Δw| per element. */
function drift(map: (typeof QUANT_MAPS)[number], lr: number, steps: number): Float64Array {
  const shape = [64, 80];
  const n = 64 * 80;
  const rng = new Rng(9);
  const w0 = new Float32Array(n);
  rng.fillNormal(w0, 0, 0.3);
  const a = tensor(w0, shape);
  const b = tensor(w0, shape);
  const ref = new AdamW([a], { lr });
  const q = new AdamW8bit([b], { lr, map });
  const g = new Float32Array(n);
  for (let t = 0; t < steps; t++) {
    // A persistent direction plus noise, spread over three decades of magnitude (as real gradients are).
    rng.fillNormal(g, 0, 1);
    for (let j = 0; j < n; j++) g[j] = (g[j]! + Math.sin(j)) * 10 ** -((j % 7) / 2);
    a.grad = tensor(g, shape, { category: "grad" });
    b.grad = tensor(g, shape, { category: "grad" });
    ref.step();
    q.step();
    ref.zeroGrad();
    q.zeroGrad();
  }
  expect(Math.abs(a.data[0]! - w0[0]!)).toBeGreaterThan(lr / 2); // the weights did move
  const d = Float64Array.from(a.data, (x, j) => Math.abs(x - b.data[j]!));
  for (const t of [a, b]) t.dispose();
  ref.dispose();
  q.dispose();
  return d;
}

describe("8-bit AdamW against f32 AdamW", () => {
  const lr = 1e-2;
  const steps = 10;
  const mean = (d: Float64Array) => d.reduce((s, x) => s + x, 0) / d.length;
  const max = (d: Float64Array) => d.reduce((s, x) => Math.max(s, x), 0);

  it(`dynamic map: mean |Δw| ≤ ${MEAN_TOL}·lr·steps, every element ≤ ${MAX_TOL}·lr·steps`, () => {
    const d = drift("dynamic", lr, steps);
    expect(mean(d)).toBeGreaterThan(0); // quantisation did perturb something
    expect(mean(d)).toBeLessThanOrEqual(MEAN_TOL * lr * steps);
    expect(max(d)).toBeLessThanOrEqual(MAX_TOL * lr * steps);
  });

  it("the linear map drifts further on average (why bitsandbytes uses the dynamic one), yet stays bounded", () => {
    const lin = drift("linear", lr, steps);
    expect(mean(lin)).toBeGreaterThan(3 * mean(drift("dynamic", lr, steps)));
    expect(max(lin)).toBeLessThanOrEqual(MAX_TOL * lr * steps);
  });
});
