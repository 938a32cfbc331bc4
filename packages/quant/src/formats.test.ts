/**
 * Every format against its f32 oracle: round-trip error bounds derived from the format (property
 * tests over random tensors with zeros, constant rows and large outliers), NaN/Inf rejected by
 * position, exact ledger bytes, and bits per weight.
 */
import { getLedger, Rng, type Strategy, scope, tensor, ValueError } from "@tradeoffs/core-tensor";
import { expectNoLeak, samplePlan } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fp32x8Format } from "./fp32x8.js";
import { bf16Format, fp16Format } from "./half.js";
import { int4, int4Format } from "./int4.js";
import { int8, int8Format } from "./int8.js";
import { NF4_VALUES, nf4, nf4Format } from "./nf4.js";
import type { WeightFormat } from "./packed.js";
import { q4_0, q4_0Format } from "./q4-0.js";
import { q8_0, q8_0Format } from "./q8-0.js";

/** f32 rounding of a decoded product q·s: a few ulps of the group's absmax. */
const F32_SLACK = 2 ** -22;
/** Half of fp16's smallest subnormal step: the absolute floor of any fp16-stored scale. */
const F16_SUBNORMAL_HALF = 2 ** -25;
/** Relative rounding error of fp16 (10 mantissa bits, round to nearest). */
const F16_REL = 2 ** -11;
/** Relative rounding error of bf16 (7 mantissa bits, round to nearest). */
const BF16_REL = 2 ** -8;
/** Largest distance from a value in [−1, 1] to its nearest NF4 value: half the widest gap. */
const NF4_MAX_HALF_GAP = Math.max(...NF4_VALUES.slice(1).map((v, i) => (v - NF4_VALUES[i]!) / 2));

/** Per-element error bound of a format given the absmax of the element's block and of the tensor. */
type Bound = (w: number, blockAmax: number, tensorAmax: number) => number;

interface Case {
  readonly format: WeightFormat;
  /** Inputs per scale block (for the absmax in the bound); cols = whole width. */
  readonly block: (cols: number) => number;
  readonly bound: Bound;
  /** Width must be a multiple of 32 (GGUF). */
  readonly gguf?: boolean;
}

const CASES: Case[] = [
  // FP32x8 only reorders the f32 values: exact
  { format: fp32x8Format, block: (c) => c, bound: () => 0 },
  { format: fp16Format, block: (c) => c, bound: (w) => Math.abs(w) * F16_REL + F16_SUBNORMAL_HALF },
  { format: bf16Format, block: (c) => c, bound: (w) => Math.abs(w) * BF16_REL + 2 ** -133 },
  // symmetric absmax int8: half a step of absmax/127
  { format: int8Format(), block: (c) => c, bound: (_, a) => a / 254 + a * F32_SLACK },
  { format: int8Format({ group: 32 }), block: () => 32, bound: (_, a) => a / 254 + a * F32_SLACK },
  // symmetric int4: half a step of absmax/7
  { format: int4Format(), block: () => 32, bound: (_, a) => a / 14 + a * F32_SLACK },
  { format: int4Format({ group: 0 }), block: (c) => c, bound: (_, a) => a / 14 + a * F32_SLACK },
  {
    format: nf4Format({ dq: false }),
    block: () => 64,
    bound: (_, a) => a * NF4_MAX_HALF_GAP + a * F32_SLACK,
  },
  {
    // dq: the block absmax itself is off by at most half an 8-bit step of max|absmax − mean| ≤ tensor max
    format: nf4Format({ dq: true }),
    block: () => 64,
    bound: (_, a, t) => a * NF4_MAX_HALF_GAP + (t / 254) * (1 + NF4_MAX_HALF_GAP) + t * F32_SLACK,
  },
  {
    // d = absmax/127 stored as fp16: half a step plus 127 codes of fp16 scale error
    format: q8_0Format,
    block: () => 32,
    gguf: true,
    bound: (_, a) => (a / 127) * (0.5 + 127 * F16_REL) + 127 * F16_SUBNORMAL_HALF + a * F32_SLACK,
  },
  {
    // |d| = absmax/8; the code opposite the max clips to 15 (error up to |d|), plus 8 codes of fp16 error
    format: q4_0Format,
    block: () => 32,
    gguf: true,
    bound: (_, a) => (a / 8) * (1 + 8 * F16_REL) + 8 * F16_SUBNORMAL_HALF + a * F32_SLACK,
  },
];

type Kind = "normal" | "zeros" | "constantRow" | "outlier" | "tiny";

function makeWeights(rows: number, cols: number, kind: Kind, seed: number, mag: number): Float32Array {
  const rng = new Rng(seed);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = mag * rng.normal();
  if (kind === "zeros") w.fill(0);
  if (kind === "constantRow") w.fill(mag * 0.37, 0, cols);
  if (kind === "outlier") w[rng.int(w.length)] = mag * 1000;
  if (kind === "tiny") for (let i = 0; i < w.length; i++) w[i] = w[i]! * 1e-6;
  return w;
}

const arbCase = fc.record({
  rows: fc.integer({ min: 1, max: 5 }),
  blocks: fc.integer({ min: 1, max: 4 }),
  ragged: fc.boolean(),
  kind: fc.constantFrom<Kind>("normal", "zeros", "constantRow", "outlier", "tiny"),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  mag: fc.constantFrom(1e-3, 0.02, 1, 50),
});

describe("round trip within the format's bound", () => {
  for (const c of CASES) {
    it(`${c.format.name}: |w − dequantize(quantize(w))| ≤ bound, element by element`, () => {
      fc.assert(
        fc.property(arbCase, ({ rows, blocks, ragged, kind, seed, mag }) => {
          const cols = 32 * blocks + (ragged && !c.gguf ? 6 : 0);
          const w = makeWeights(rows, cols, kind, seed, mag);
          expectNoLeak(() =>
            scope(() => {
              const t = tensor(w, [rows, cols]);
              const p = c.format.quantize(t);
              const back = c.format.dequantize(p).data;
              const block = c.block(cols);
              let tensorAmax = 0;
              for (const v of w) tensorAmax = Math.max(tensorAmax, Math.abs(v));
              for (let r = 0; r < rows; r++) {
                for (let b0 = 0; b0 < cols; b0 += block) {
                  let amax = 0;
                  const b1 = Math.min(cols, b0 + block);
                  for (let k = b0; k < b1; k++) amax = Math.max(amax, Math.abs(w[r * cols + k]!));
                  for (let k = b0; k < b1; k++) {
                    const i = r * cols + k;
                    const err = Math.abs(w[i]! - back[i]!);
                    const tol = c.bound(w[i]!, amax, tensorAmax);
                    if (!(err <= tol)) {
                      expect.fail(
                        `${c.format.name} [${rows}×${cols}] ${kind}: element (${r}, ${k}) = ${w[i]} came back ${back[i]} (error ${err} > ${tol})`,
                      );
                    }
                  }
                }
              }
              p.dispose();
            }),
          );
        }),
        { numRuns: 40 },
      );
    });
  }
});

describe("zeros stay exactly zero", () => {
  for (const c of CASES) {
    it(c.format.name, () => {
      scope(() => {
        const p = c.format.quantize(tensor(new Float32Array(2 * 64), [2, 64]));
        expect(
          c.format
            .dequantize(p)
            .toArray()
            .every((v) => v === 0),
        ).toBe(true);
        p.dispose();
      });
    });
  }
});

describe("NaN and Inf are rejected with their position", () => {
  for (const c of CASES) {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      it(`${c.format.name} rejects ${bad} at (1, 5)`, () => {
        expectNoLeak(() =>
          scope(() => {
            const w = new Float32Array(3 * 64).fill(0.5);
            w[64 + 5] = bad;
            const t = tensor(w, [3, 64]);
            let err: unknown;
            try {
              c.format.quantize(t);
            } catch (e) {
              err = e;
            }
            expect(err).toBeInstanceOf(ValueError);
            expect((err as ValueError).message).toContain("weight[1, 5]");
            expect((err as ValueError).details).toMatchObject({ row: 1, col: 5 });
          }),
        );
      });
    }
  }
});

describe("GGUF formats need whole 32-weight blocks", () => {
  for (const f of [q8_0Format, q4_0Format]) {
    it(`${f.name} names the width and the block`, () => {
      scope(() => {
        expect(() => f.quantize(tensor(new Float32Array(40), [1, 40]))).toThrow(
          /40 is not a multiple of the 32/,
        );
      });
    });
  }
});

describe("bytes: the ledger holds exactly the packed size", () => {
  // [rows, cols] = [48, 256]: every format's blocks divide the width.
  const expected: [WeightFormat, number][] = [
    [fp32x8Format, 48 * 256 * 4],
    [fp16Format, 48 * 256 * 2],
    [bf16Format, 48 * 256 * 2],
    [int8Format(), 48 * 256 + 48 * 4],
    [int8Format({ group: 64 }), 48 * 256 + 48 * 4 * 4],
    [int4Format(), (48 * 256) / 2 + 48 * 8 * 4],
    [nf4Format({ dq: false }), (48 * 256) / 2 + 48 * 4 * 4],
    // 192 blocks: 192 int8 codes, one 256-chunk scale and the mean
    [nf4Format(), (48 * 256) / 2 + 192 + 2 * 4],
    [q8_0Format, 48 * 8 * 34],
    [q4_0Format, 48 * 8 * 18],
  ];
  for (const [f, bytes] of expected) {
    it(`${f.name}: ${bytes} bytes, all under the given category`, () => {
      expectNoLeak(() =>
        scope(() => {
          const before = getLedger().live("weights/q");
          const p = f.quantize(tensor(new Float32Array(48 * 256).fill(0.25), [48, 256]), "weights/q");
          expect(p.bytes).toBe(bytes);
          expect(getLedger().live("weights/q") - before).toBe(bytes);
          expect(f.bitsFor(48, 256)).toBeCloseTo((8 * bytes) / (48 * 256), 12);
          p.dispose();
        }),
      );
    });
  }
});

describe("bits per weight (scales and second-level constants included)", () => {
  it("has the documented values", () => {
    expect(fp32x8Format.bitsPerWeight).toBe(32);
    // padded to 8 rows and 4 columns: [5, 6] holds 8 × 8 floats
    expect(fp32x8Format.bytesFor(5, 6)).toBe(8 * 8 * 4);
    expect(fp16Format.bitsPerWeight).toBe(16);
    expect(bf16Format.bitsPerWeight).toBe(16);
    expect(int8Format({ group: 128 }).bitsPerWeight).toBe(8.25);
    expect(int8Format().bitsPerWeight).toBe(8 + 32 / 4096);
    expect(int4Format().bitsPerWeight).toBe(5);
    expect(nf4Format({ dq: false }).bitsPerWeight).toBe(4.5);
    expect(nf4Format().bitsPerWeight).toBe(4 + 8 / 64 + 32 / (64 * 256));
    expect(nf4Format().bitsPerWeight).toBeCloseTo(4.127, 3);
    expect(q8_0Format.bitsPerWeight).toBe(8.5);
    expect(q4_0Format.bitsPerWeight).toBe(4.5);
  });
  it("plan() sets weights.{format, bitsPerWeight} purely", () => {
    const p = samplePlan();
    const w = (s: Strategy) => s.plan(p).weights;
    expect(w(int8())).toMatchObject({ format: "INT8", bitsPerWeight: 8 + 32 / p.arch.dModel });
    expect(w(int8({ group: 64 })).bitsPerWeight).toBe(8.5);
    expect(w(int4())).toMatchObject({ format: "INT4", bitsPerWeight: 5 });
    expect(w(nf4()).bitsPerWeight).toBeCloseTo(4.127, 3);
    expect(w(q8_0())).toMatchObject({ format: "Q8_0", bitsPerWeight: 8.5 });
    expect(w(q4_0())).toMatchObject({ format: "Q4_0", bitsPerWeight: 4.5 });
    // exact bytes of one matrix, as the ledger will see them
    expect(w(q4_0()).bytesFor?.(4096, 4096)).toBe(4096 * 128 * 18);
    expect(w(nf4()).bytesFor?.(48, 256)).toBe((48 * 256) / 2 + 192 + 8);
    expect(p.weights.format).toBe("FP32");
  });
  it("odd INT4 groups and NF4 blocks are configuration errors", () => {
    expect(() => int4({ group: 33 })).toThrow(/even/);
    expect(() => nf4({ block: 63 })).toThrow(/even/);
  });
});
