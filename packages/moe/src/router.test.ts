import { backward, getLedger, noGrad, Rng, randn, scope, sum, tensor } from "@tradeoffs/core-tensor";
import { expectNoLeak } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { routeTopK, takeAlong } from "./router.js";

/** f32 softmax over ≤ 8 entries: the sum is 1 to a few ulps. */
const GATE_SUM_TOL = 1e-6;

const routingCase = fc
  .record({ N: fc.integer({ min: 1, max: 6 }), E: fc.integer({ min: 1, max: 8 }) })
  .chain(({ N, E }) =>
    fc.record({
      N: fc.constant(N),
      E: fc.constant(E),
      k: fc.integer({ min: 1, max: E }),
      logits: fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: N * E, maxLength: N * E }),
    }),
  );

describe("routeTopK", () => {
  it("gives each token k distinct best experts whose gates are ≥ 0 and sum to 1 (property)", () => {
    fc.assert(
      fc.property(routingCase, ({ N, E, k, logits }) => {
        expectNoLeak(() =>
          noGrad(() =>
            scope(() => {
              const { indices, gates } = routeTopK(tensor(logits, [N, E]), k);
              const iv = indices.int32;
              const gv = gates.data;
              for (let t = 0; t < N; t++) {
                const chosen = new Set<number>();
                let s = 0;
                for (let j = 0; j < k; j++) {
                  const e = iv[t * k + j]!;
                  expect(e).toBeGreaterThanOrEqual(0);
                  expect(e).toBeLessThan(E);
                  chosen.add(e);
                  expect(gv[t * k + j]).toBeGreaterThanOrEqual(0);
                  s += gv[t * k + j]!;
                }
                expect(chosen.size).toBe(k);
                expect(Math.abs(s - 1)).toBeLessThanOrEqual(GATE_SUM_TOL);
                // every chosen logit ≥ every unchosen one
                const low = Math.min(...[...chosen].map((e) => logits[t * E + e]!));
                for (let e = 0; e < E; e++)
                  if (!chosen.has(e)) expect(logits[t * E + e]!).toBeLessThanOrEqual(low);
              }
            }),
          ),
        );
      }),
      { numRuns: 100 },
    );
  });

  it("rejects topK outside 1..E with a ValueError naming both", () => {
    scope(() => {
      const logits = tensor([1, 2, 3, 4], [2, 2]);
      expect(() => routeTopK(logits, 3)).toThrow(/topK must be an integer in \[1, 2\].*got 3/);
    });
  });

  it("takeAlong scatters its gradient back into the chosen columns", () => {
    expectNoLeak(() =>
      scope(() => {
        const x = randn([3, 4], new Rng(1), { requiresGrad: true });
        const idx = tensor([0, 2, 3, 3, 1, 0], [3, 2], { dtype: "i32" });
        const y = takeAlong(x, idx);
        expect(y.toArray()).toEqual([0, 2, 7, 7, 9, 8].map((i) => x.data[i]!));
        backward(sum(y));
        expect(x.grad?.toArray()).toEqual([1, 0, 1, 0, 0, 0, 0, 2, 1, 1, 0, 0]);
        x.grad?.dispose();
      }),
    );
    expect(getLedger().live("grad")).toBe(0);
  });
});
