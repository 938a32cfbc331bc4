/**
 * Checkpointing against its oracle, `None`, on a synthetic residual stack: gradients bit for bit, and
 * the ledger's peak `act` against the memory model.
 */
import { getLedger, Rng, randn, type Tensor } from "@tradeoffs/core-tensor";
import { expectNoLeak } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { ResidualStack } from "../test/synthetic-stack.js";
import { budgetSegments, minimumBudget } from "./budget.js";
import { ckpt } from "./ckpt.js";
import { predictPeakAct, type Segments } from "./memory-model.js";
import { none } from "./none.js";

/** Recomputation runs the same kernels on the same inputs: gradients must match exactly. */
const GRAD_TOLERANCE_ULPS = 0;

const WIDTH = 64;
const HIDDEN = 128;
const TOKENS = 8;

interface Run {
  grads: Float32Array[];
  peakAct: number;
}

function run(stack: ResidualStack, x: Tensor, dy: Tensor, segments: Segments, budget?: number): Run {
  const ledger = getLedger();
  stack.zeroGrad();
  const before = ledger.budget("act");
  ledger.setBudget(budget, "act");
  ledger.resetPeak();
  const base = ledger.live("act");
  try {
    stack.step(x, dy, segments);
  } finally {
    ledger.setBudget(before, "act");
  }
  const peakAct = ledger.peak("act") - base;
  const grads = stack.parameters().map((p) => Float32Array.from(p.grad?.data ?? []));
  stack.zeroGrad();
  return { grads, peakAct };
}

/** Count elements whose bits differ (0 means bit-identical). */
function differingBits(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = a.length === b.length ? 0 : Math.max(a.length, b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (ua[i] !== ub[i]) n++;
  return n;
}

function withStack(layers: number, fn: (stack: ResidualStack, x: Tensor, dy: Tensor) => void): void {
  expectNoLeak(() => {
    const stack = new ResidualStack({ layers, width: WIDTH, hidden: HIDDEN, seed: 11 + layers });
    const rng = new Rng(7);
    const x = randn([TOKENS, WIDTH], rng);
    const dy = randn([TOKENS, WIDTH], rng);
    try {
      fn(stack, x, dy);
    } finally {
      x.dispose();
      dy.dispose();
      stack.dispose();
    }
  });
}

describe("checkpointed residual stack vs None", () => {
  for (const L of [1, 4, 7]) {
    it(`L=${L}: every policy gives bit-identical parameter gradients`, () => {
      withStack(L, (stack, x, dy) => {
        const layerAct = 4 * TOKENS * (2 * WIDTH + 2 * HIDDEN + 1);
        const oracle = run(stack, x, dy, none().exec.segments(L, layerAct, x.bytes));
        expect(oracle.grads.every((g) => g.length > 0)).toBe(true);
        const policies = [
          ckpt({ policy: "sqrt" }),
          ckpt({ policy: "all" }),
          ckpt({ every: 2 }),
          ckpt({ every: 3 }),
          ckpt({ budget: Math.max(minimumBudget(L, layerAct, x.bytes), Math.floor((L * layerAct) / 2)) }),
        ];
        for (const p of policies) {
          const got = run(stack, x, dy, p.exec.segments(L, layerAct, x.bytes));
          for (let i = 0; i < got.grads.length; i++) {
            expect(
              differingBits(got.grads[i]!, oracle.grads[i]!),
              `${p.label} parameter ${i}`,
            ).toBeLessThanOrEqual(GRAD_TOLERANCE_ULPS);
          }
        }
      });
    });
  }

  it("ledger peak act is the model's prediction, or one layer input below it", () => {
    withStack(6, (stack, x, dy) => {
      // What one layer saves without checkpointing: x, rmsNorm's output and rstd, W1·n and silu(W1·n).
      const layerAct = 4 * TOKENS * (2 * WIDTH + 2 * HIDDEN + 1);
      const input = x.bytes;
      for (const segs of [
        [],
        [
          [0, 1],
          [2, 3],
          [4, 5],
        ],
        [[0], [1], [2], [3], [4], [5]],
        [[1, 2, 3]],
        [[0, 1, 2]],
      ]) {
        const predicted = predictPeakAct(6, layerAct, input, segs);
        const { peakAct } = run(stack, x, dy, segs);
        expect(peakAct, JSON.stringify(segs)).toBeLessThanOrEqual(predicted);
        expect(peakAct, JSON.stringify(segs)).toBeGreaterThanOrEqual(predicted - input);
      }
    });
  });

  it("the budget policy stays within its budget in the ledger, down to the smallest feasible budget", () => {
    withStack(8, (stack, x, dy) => {
      const layerAct = 4 * TOKENS * (2 * WIDTH + 2 * HIDDEN + 1);
      const nonePeak = run(stack, x, dy, []).peakAct;
      const min = minimumBudget(8, layerAct, x.bytes);
      for (const budget of [min, Math.floor((min + nonePeak) / 2), Math.floor(nonePeak / 2), nonePeak]) {
        const segs = budgetSegments(8, layerAct, x.bytes, budget);
        // The ledger budget guards direct `act` allocations; saved tensors move in from `tmp`, so the
        // peak is checked as well.
        const { peakAct } = run(stack, x, dy, segs, budget);
        expect(peakAct, `budget ${budget}`).toBeLessThanOrEqual(budget);
      }
    });
  });
});
