/**
 * Optimizer state on a backend with resident memory (WASM): the moments live in its linear memory,
 * charged to `optim` exactly as ordinary storage, and every optimizer steps to the same bits as on
 * ordinary storage (AdamW large enough to take the WASM kernel, which then copies no moment).
 */
import {
  jsBackend,
  MemoryLedger,
  ResidentStorage,
  Rng,
  type Tensor,
  tensor,
  wasmAvailable,
  wasmBackend,
  withBackend,
  withLedger,
} from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { optimZeros } from "./optimizer.js";
import { createOptimizer, OPTIMIZER_NAMES, OPTIMIZERS } from "./registry.js";

/** A matrix past the WASM AdamW crossover (4096 elements) and a small vector that stays in JS. */
const SHAPES = [[96, 64], [64]] as const;

function params(seed: number): Tensor[] {
  const rng = new Rng(seed);
  return SHAPES.map((s) => {
    const a = new Float32Array(s.reduce((x, y) => x * y, 1));
    rng.fillNormal(a, 0, 0.3);
    const t = tensor(a, s);
    t.requiresGrad = true;
    return t;
  });
}

/** 3 steps of `name` on fresh parameters under `backend`; the final weights and optim bytes. */
function run(name: (typeof OPTIMIZER_NAMES)[number], backend: typeof jsBackend) {
  const ledger = new MemoryLedger();
  return withLedger(ledger, () =>
    withBackend(backend, () => {
      const ps = params(1);
      const rng = new Rng(2);
      const opt = createOptimizer(ps, { name });
      let optimBytes = 0;
      for (let s = 0; s < 3; s++) {
        for (const p of ps) {
          const g = new Float32Array(p.size);
          rng.fillNormal(g, 0, 0.5);
          p.grad = tensor(g, p.shape);
        }
        opt.step();
        optimBytes = ledger.live("optim");
        opt.zeroGrad();
      }
      const weights = ps.map((p) => Array.from(p.data));
      opt.dispose();
      for (const p of ps) p.dispose();
      expect(ledger.live()).toBe(0);
      return { weights, optimBytes };
    }),
  );
}

describe.skipIf(!wasmAvailable())("optimizer state resident in WASM memory", () => {
  it("optimZeros places the state in linear memory, zeroed, charged to optim, freed on dispose", () => {
    const ledger = new MemoryLedger();
    withLedger(ledger, () =>
      withBackend(wasmBackend(1), () => {
        const ps = params(3);
        const state = optimZeros(ps);
        for (const [i, s] of state.entries()) {
          expect(s.storage).toBeInstanceOf(ResidentStorage);
          expect(s.shape).toEqual(ps[i]!.shape);
          expect(s.data.every((v) => v === 0)).toBe(true);
        }
        expect(ledger.live("optim")).toBe(4 * (96 * 64 + 64));
        for (const s of state) {
          s.data.fill(7); // a block reused by the next allocation comes back zeroed
          s.dispose();
        }
        expect(ledger.live("optim")).toBe(0);
        const again = optimZeros(ps);
        for (const s of again) expect(s.data.every((v) => v === 0)).toBe(true);
        for (const s of again) s.dispose();
        for (const p of ps) p.dispose();
      }),
    );
  });

  it.each(OPTIMIZER_NAMES.map((n) => [n]))(
    "%s: same bits and the same optim bytes as on JS storage",
    (name) => {
      const js = run(name, jsBackend);
      const wasm = run(name, wasmBackend(1));
      expect(wasm.weights).toEqual(js.weights);
      expect(wasm.optimBytes).toBe(js.optimBytes);
      expect(wasm.optimBytes).toBe(
        SHAPES.reduce((b, s) => b + OPTIMIZERS[name].stateBytes(s as readonly number[], { name }), 0),
      );
    },
  );
});
