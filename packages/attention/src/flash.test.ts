import {
  type Backend,
  ConfigError,
  castTo,
  DTypeError,
  getLedger,
  grad,
  noGrad,
  parseConfig,
  type Registry,
  Rng,
  randn,
  ShapeError,
  scope,
  type Tensor,
  ValueError,
  wasm,
  wasmAvailable,
} from "@tradeoffs/core-tensor";
import { expectClose, expectNoLeak, samplePlan } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FLASH_FP32_TOL, flash, flashAttention } from "./flash.js";
import { flashScratchLength } from "./flash-kernel.js";
import { attentionStrategies } from "./registry.js";
import { standardAttention } from "./standard.js";

const registry: Registry = attentionStrategies;

interface Case {
  B: number;
  Hkv: number;
  group: number;
  Tq: number;
  Tk: number;
  D: number;
  causal: boolean;
  window: number | undefined;
  scale: number | undefined;
  blockQ: number;
  blockK: number;
  seed: number;
}

/**
 * Flash vs Standard on one case: output and dQ, dK, dV under a random output gradient. Flash runs on
 * `backend` (default the active one, JS here); Standard on the active one.
 */
function checkAgainstStandard(c: Case, backend?: Backend): void {
  expectNoLeak(() =>
    scope(() => {
      const rng = new Rng(c.seed);
      const H = c.Hkv * c.group;
      const q = randn([c.B, H, c.Tq, c.D], rng, { requiresGrad: true });
      const k = randn([c.B, c.Hkv, c.Tk, c.D], rng, { requiresGrad: true });
      const v = randn([c.B, c.Hkv, c.Tk, c.D], rng, { requiresGrad: true });
      const dO = randn([c.B, H, c.Tq, c.D], rng);
      const opts = { causal: c.causal, window: c.window, scale: c.scale };
      const fast = flashAttention(q, k, v, { ...opts, blockQ: c.blockQ, blockK: c.blockK, backend });
      const slow = standardAttention(q, k, v, opts);
      expectClose(fast, slow, FLASH_FP32_TOL, "output");
      const gf = grad(fast, [q, k, v], { grad: dO });
      const gs = grad(slow, [q, k, v], { grad: dO });
      for (const [i, name] of ["dQ", "dK", "dV"].entries()) {
        expectClose(gf[i]!, gs[i]!, FLASH_FP32_TOL, name);
      }
      for (const g of [...gf, ...gs]) g?.dispose();
    }),
  );
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  Hkv: fc.integer({ min: 1, max: 2 }),
  group: fc.integer({ min: 1, max: 3 }),
  Tq: fc.integer({ min: 1, max: 29 }),
  Tk: fc.integer({ min: 1, max: 33 }),
  D: fc.constantFrom(1, 3, 4, 8, 13),
  causal: fc.boolean(),
  window: fc.option(fc.integer({ min: 1, max: 24 }), { nil: undefined }),
  scale: fc.option(fc.double({ min: 0.05, max: 1.5, noNaN: true }), { nil: undefined }),
  blockQ: fc.integer({ min: 1, max: 40 }),
  blockK: fc.integer({ min: 1, max: 40 }),
  seed: fc.integer({ min: 0, max: 1 << 30 }),
});

describe("flashAttention equals standardAttention (FLASH_FP32_TOL)", () => {
  it("outputs and all three gradients over property-generated shapes, masks and tiles", () => {
    fc.assert(
      fc.property(caseArb, (c) => checkAgainstStandard(c)),
      { numRuns: 150, seed: 20261126 },
    );
  });

  it.skipIf(!wasmAvailable())(
    "the same on the WASM backend, whose forward keeps the log-sum-exp its backward reads",
    () => {
      const backend = wasm().exec.backend;
      fc.assert(
        fc.property(caseArb, (c) => checkAgainstStandard(c, backend)),
        { numRuns: 80, seed: 20261129 },
      );
    },
  );

  const base: Case = {
    B: 1,
    Hkv: 2,
    group: 2,
    Tq: 19,
    Tk: 19,
    D: 8,
    causal: true,
    window: undefined,
    scale: undefined,
    blockQ: 4,
    blockK: 4,
    seed: 1,
  };
  const named: [string, Partial<Case>][] = [
    ["one-token query against a long cache (decode)", { Tq: 1, Tk: 45, blockQ: 64, blockK: 16 }],
    ["prefill continuation: Tq < Tk, bottom-right causal", { Tq: 7, Tk: 30 }],
    ["more queries than keys: early rows see nothing", { Tq: 12, Tk: 5, blockQ: 3, blockK: 2 }],
    ["block size 1", { blockQ: 1, blockK: 1 }],
    ["blocks larger than the sequence", { blockQ: 100, blockK: 77 }],
    ["seq not a multiple of the block", { Tq: 23, Tk: 23, blockQ: 8, blockK: 5 }],
    ["sliding window, causal", { window: 5, Tk: 26, Tq: 26 }],
    ["sliding window, not causal", { window: 6, causal: false, Tq: 9, Tk: 21 }],
    ["no mask", { causal: false }],
    ["multi-query (one K/V head for 4 query heads)", { Hkv: 1, group: 4 }],
    ["headDim 64 with the default tile", { D: 64, Tq: 70, Tk: 70, blockQ: 64, blockK: 64 }],
  ];
  for (const [what, over] of named) it(what, () => checkAgainstStandard({ ...base, ...over }));
});

describe("flashAttention memory", () => {
  /** Peak `tmp` above the start during an inference forward of [1, 2, T, 16] with 16×16 tiles. */
  function forwardPeakTmp(T: number, attend = flashAttention): number {
    const rng = new Rng(3);
    return scope(() => {
      const q = randn([1, 2, T, 16], rng);
      const k = randn([1, 2, T, 16], rng);
      const v = randn([1, 2, T, 16], rng);
      const m = getLedger().measure(() =>
        noGrad(() => scope(() => void attend(q, k, v, { causal: true, blockQ: 16, blockK: 16 }))),
      );
      return m.peakAbove.tmp ?? 0;
    });
  }

  it("peak tmp in forward is the output, one LSE per row and one tile: O(seq)", () => {
    for (const T of [64, 128, 256, 512]) {
      const rows = 2 * T;
      const scratch = flashScratchLength(
        { B: 1, H: 2, Hkv: 2, Tq: T, Tk: T, D: 16, blockQ: 16, blockK: 16, scale: 1, causal: true },
        "forward",
      );
      expect(forwardPeakTmp(T)).toBe(4 * (rows * 16 + rows + scratch));
    }
  });

  it("doubling seq at most doubles Flash's peak tmp, while Standard's grows ~4×", () => {
    const f = [256, 512, 1024].map((T) => forwardPeakTmp(T));
    const s = [256, 512].map((T) => forwardPeakTmp(T, standardAttention));
    expect(f[1]! / f[0]!).toBeLessThanOrEqual(2);
    expect(f[2]! / f[1]!).toBeLessThanOrEqual(2);
    expect(s[1]! / s[0]!).toBeGreaterThan(3.5);
    expect(s[1]! / f[1]!).toBeGreaterThan(10);
  });

  it("saves O(seq) for backward: q, k, v, the output and one LSE per row", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(4);
        const T = 300;
        const q = randn([1, 2, T, 16], rng, { requiresGrad: true });
        const k = randn([1, 1, T, 16], rng, { requiresGrad: true });
        const v = randn([1, 1, T, 16], rng, { requiresGrad: true });
        const before = getLedger().live("act");
        const o = flashAttention(q, k, v, { causal: true });
        const saved = q.bytes + k.bytes + v.bytes + o.bytes + 4 * 2 * T;
        expect(getLedger().live("act") - before).toBe(saved);
        o.dispose();
        expect(getLedger().live("act")).toBe(before);
      }),
    );
  });

  it("leaves no bytes behind: inference, training and a forward that never sees backward", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(5);
        const q = randn([2, 4, 33, 8], rng, { requiresGrad: true });
        const k = randn([2, 2, 33, 8], rng, { requiresGrad: true });
        const v = randn([2, 2, 33, 8], rng, { requiresGrad: true });
        noGrad(() => flashAttention(q, k, v, { causal: true }).dispose());
        flashAttention(q, k, v, { causal: false, window: 4 }).dispose();
        const o = flashAttention(q, k, v, { causal: true, blockQ: 5, blockK: 7 });
        for (const g of grad(o, [q, k, v], { grad: randn(o.shape, rng) })) g?.dispose();
        o.dispose();
      }),
    );
  });
});

describe("flashAttention errors", () => {
  const rng = new Rng(6);
  const t = (shape: number[]) => randn(shape, rng);

  it("rejects shapes with a ShapeError naming them", () => {
    scope(() => {
      expect(() => flashAttention(t([2, 4, 8]), t([2, 4, 8]), t([2, 4, 8]), { causal: true })).toThrow(
        ShapeError,
      );
      expect(() =>
        flashAttention(t([1, 3, 4, 8]), t([1, 2, 4, 8]), t([1, 2, 4, 8]), { causal: true }),
      ).toThrow(/query heads \(3\) must be a multiple of K\/V heads \(2\)/);
      expect(() =>
        flashAttention(t([1, 2, 4, 8]), t([1, 2, 4, 8]), t([1, 2, 5, 8]), { causal: true }),
      ).toThrow(ShapeError);
    });
  });

  it("rejects bad tiles, windows and scales with a ValueError naming the value", () => {
    scope(() => {
      const [q, k, v] = [t([1, 1, 4, 8]), t([1, 1, 4, 8]), t([1, 1, 4, 8])];
      expect(() => flashAttention(q, k, v, { causal: true, blockQ: 0 })).toThrow(
        /blockQ must be a positive integer \(e\.g\. 64\), got 0/,
      );
      expect(() => flashAttention(q, k, v, { causal: true, blockK: 2.5 })).toThrow(ValueError);
      expect(() => flashAttention(q, k, v, { causal: true, window: 0 })).toThrow(/window must be/);
      expect(() => flashAttention(q, k, v, { causal: true, scale: Number.NaN })).toThrow(/scale must be/);
    });
  });

  it("rejects non-f32 inputs with a DTypeError and allocates nothing", () => {
    expectNoLeak(() =>
      scope(() => {
        const q: Tensor = castTo(t([1, 1, 4, 8]), "f16");
        expect(() => flashAttention(q, t([1, 1, 4, 8]), t([1, 1, 4, 8]), { causal: true })).toThrow(
          DTypeError,
        );
      }),
    );
  });
});

describe("the Flash strategy", () => {
  it("has one canonical label per tile shape, and parses back to it", () => {
    const cases: [Parameters<typeof flash>[0], string][] = [
      [{}, "Flash[block=64]"],
      [{ block: 32 }, "Flash[block=32]"],
      [{ blockQ: 32, blockK: 32 }, "Flash[block=32]"],
      [{ block: 16, blockQ: 16 }, "Flash[block=16]"],
      [{ block: 32, blockK: 16 }, "Flash[block=32,blockK=16]"],
      [{ blockQ: 8 }, "Flash[block=8,blockK=64]"],
      [{ block: "48" }, "Flash[block=48]"],
    ];
    for (const [given, label] of cases) {
      const s = flash(given);
      expect(s.label).toBe(label);
      expect(parseConfig(label, registry).label).toBe(label);
      expect(parseConfig(label, registry).strategies[0]!.options).toEqual(s.options);
    }
    expect(parseConfig("flash[blockQ=32,blockK=32]", registry).label).toBe("Flash[block=32]");
  });

  it("reports bad options with a ConfigError naming the option and the valid range", () => {
    expect(() => flash({ block: 0 })).toThrow(ConfigError);
    expect(() => flash({ block: 0 })).toThrow(/option 'block' must be in 1\.\./);
    expect(() => flash({ blockK: -1 })).toThrow(/'blockK'/);
    expect(() => flash({ blok: 8 } as never)).toThrow(/did you mean 'block'/);
  });

  it("plans its costs from its tiles, clamped to the sequence as the kernel clamps them", () => {
    const p = samplePlan();
    const before = p.attention;
    const a = flash({ block: 32, blockK: 16 }).plan(p).attention;
    const shape = { batch: 2, heads: 4, kvHeads: 2, tq: 100, tk: 100, headDim: 8 };
    // output + log-sum-exp saved; output + statistics + one 32×16 tile live
    expect(a.savedElements(shape)).toBe(2 * 4 * 100 * 8 + 2 * 4 * 100);
    expect(a.tmpElements(shape)).toBe(2 * 4 * 100 * 8 + 2 * 4 * 100 + 32 * 16);
    // decode: a 1-row query tile; a huge block never exceeds the sequence
    expect(a.tmpElements({ ...shape, tq: 1 }) - 2 * 4 * 8 - 2 * 4).toBe(16);
    const huge = flash({ block: 100000 }).plan(p).attention;
    expect(huge.tmpElements({ ...shape, tq: 10, tk: 10 })).toBe(2 * 4 * 10 * 8 + 2 * 4 * 10 + 10 * 10);
    // causal prefill skips key blocks above the diagonal; decode scores every key
    expect(a.keysPerQuery(100, 100)).toBe(Math.min(100, 101 / 2 + 8));
    expect(a.keysPerQuery(1, 100)).toBe(100);
    expect(a.matmulOperandElements(shape)).toBe(0);
    expect(p.attention).toBe(before);
  });

  it("attends with its tiles (same result as Standard)", () => {
    expectNoLeak(() =>
      scope(() => {
        const rng = new Rng(8);
        const q = randn([1, 4, 10, 8], rng);
        const k = randn([1, 2, 10, 8], rng);
        const v = randn([1, 2, 10, 8], rng);
        const a = flash({ block: 3, blockK: 4 }).exec.attend(q, k, v, { causal: true, window: 6 });
        expectClose(a, standardAttention(q, k, v, { causal: true, window: 6 }), FLASH_FP32_TOL, "exec");
      }),
    );
  });
});
