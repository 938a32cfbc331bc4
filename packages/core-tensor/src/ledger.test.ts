/**
 * Tests of the memory ledger: per-path/category/total accounting, peaks and measurement windows,
 * budgets, external allocations, reference counts, scopes (a property test over random op
 * sequences), and a cross-check against V8's own count of ArrayBuffer bytes.
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backward } from "./autograd.js";
import { OutOfMemoryError, ValueError } from "./errors.js";
import { diffSnapshots, MemoryLedger, rootCategory, withLedger } from "./ledger.js";
import { add, mul } from "./ops/binary.js";
import { concat, narrow, reshape, transpose } from "./ops/layout.js";
import { matmul } from "./ops/matmul.js";
import { sum } from "./ops/reduce.js";
import { softmax } from "./ops/softmax.js";
import { exp } from "./ops/unary.js";
import { Rng } from "./rng.js";
import { empty, keep, randn, scope, type Tensor, tensor, zeros } from "./tensor.js";

describe("MemoryLedger accounting", () => {
  it("tracks live and peak bytes per path, per top-level category and in total", () => {
    const L = new MemoryLedger();
    const a = L.allocate("weights/attn", "f32", 100); // 400 B
    const b = L.allocate("weights/ffn", "f16", 100); // 200 B
    const c = L.allocate("kv", "i8", 50); // 50 B
    expect(L.live("weights/attn")).toBe(400);
    expect(L.live("weights/ffn")).toBe(200);
    expect(L.live("weights")).toBe(600);
    expect(L.live("kv")).toBe(50);
    expect(L.live()).toBe(650);
    a.release();
    expect(L.live("weights")).toBe(200);
    expect(L.peak("weights")).toBe(600);
    expect(L.peak("weights/attn")).toBe(400);
    expect(L.peak()).toBe(650);
    const snap = L.snapshot();
    expect(snap.live).toEqual({ kv: 50, weights: 200 });
    expect(snap.peak).toEqual({ kv: 50, weights: 600 });
    expect(snap.livePaths).toEqual({ kv: 50, "weights/attn": 0, "weights/ffn": 200 });
    expect(snap.liveTotal).toBe(250);
    expect(snap.peakTotal).toBe(650);
    expect(Object.isFrozen(snap) && Object.isFrozen(snap.live)).toBe(true);
    b.release();
    c.release();
    expect(L.live()).toBe(0);
    expect(L.allocations).toBe(3);
    expect(rootCategory("weights/attn/q")).toBe("weights");
  });

  it("resetPeak starts a new window at the current live values", () => {
    const L = new MemoryLedger();
    const a = L.allocate("tmp", "f32", 1000);
    const b = L.allocate("act", "f32", 10);
    a.release();
    expect(L.peak()).toBe(4040);
    L.resetPeak();
    expect(L.peak()).toBe(40);
    expect(L.peak("tmp")).toBe(0);
    expect(L.peak("act")).toBe(40);
    b.release();
  });

  it("measure reports what fn needed above the starting live bytes, and keeps the enclosing window", () => {
    const L = new MemoryLedger();
    const base = L.allocate("weights", "f32", 100);
    const big = L.allocate("tmp", "f32", 5000);
    big.release(); // the outer window has seen 20400 B
    const m = L.measure(() => {
      const t1 = L.allocate("tmp", "f32", 250);
      const t2 = L.allocate("act", "f32", 50);
      t1.release();
      const t3 = L.allocate("tmp", "f32", 100);
      t3.release();
      t2.release();
      return 7;
    });
    expect(m.result).toBe(7);
    expect(m.peakAbove.tmp).toBe(1000);
    expect(m.peakAbove.act).toBe(200);
    expect(m.peakAbove.weights).toBe(0);
    expect(m.peakAboveTotal).toBe(1200);
    expect(m.snapshot.peakTotal).toBe(1600);
    expect(L.peak()).toBe(20400); // nested measurement did not erase the outer peak
    expect(() =>
      L.measure(() => {
        L.allocate("tmp", "f32", 1).release();
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(L.peak()).toBe(20400);
    base.release();
  });

  it("external allocations are charged, budgeted and released exactly once", () => {
    const L = new MemoryLedger();
    const ext = L.external("weights/wasm", 1 << 20);
    expect(L.live("weights")).toBe(1 << 20);
    ext.release();
    ext.release();
    expect(L.live()).toBe(0);
    L.setBudget(100);
    expect(() => L.external("tmp", 101)).toThrow(OutOfMemoryError);
    expect(() => L.external("tmp", -1)).toThrow(ValueError);
    expect(() => L.external("tmp", Number.NaN)).toThrow(ValueError);
  });

  it("storage reference counts: bytes leave the ledger when the last owner releases", () => {
    const L = new MemoryLedger();
    const s = L.allocate("kv", "f32", 10);
    s.retain();
    expect(s.refs).toBe(2);
    s.release();
    expect(L.live("kv")).toBe(40);
    expect(s.disposed).toBe(false);
    s.release();
    expect(L.live("kv")).toBe(0);
    expect(s.disposed).toBe(true);
    s.release(); // idempotent once freed
    expect(L.live()).toBe(0);
    expect(() => s.data).toThrow(/used after dispose/);
    expect(() => s.retain()).toThrow(/used after dispose/);
  });

  it("recategorize moves bytes without changing the total", () => {
    const L = new MemoryLedger();
    const s = L.allocate("tmp", "f32", 10);
    s.recategorize("act");
    expect(L.live("tmp")).toBe(0);
    expect(L.live("act")).toBe(40);
    expect(L.live()).toBe(40);
    s.release();
    expect(L.live("act")).toBe(0);
  });
});

describe("budgets", () => {
  it("a total budget throws OutOfMemoryError naming the request and the breakdown, leaving the ledger unchanged", () => {
    const L = new MemoryLedger({ budget: 1000 });
    const w = L.allocate("weights", "f32", 100);
    const k = L.allocate("kv", "f32", 100);
    const before = L.snapshot();
    let err: unknown;
    try {
      L.allocate("act", "f32", 100);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutOfMemoryError);
    const oom = err as OutOfMemoryError;
    expect(oom.requested).toBe(400);
    expect(oom.category).toBe("act");
    expect(oom.budget).toBe(1000);
    expect(oom.budgetCategory).toBe("*");
    expect(oom.live).toEqual({ weights: 400, kv: 400 });
    expect(oom.message).toContain("allocating 400 B for 'act'");
    expect(oom.message).toContain("total budget of 1000 B");
    expect(oom.message).toContain("weights=400 B, kv=400 B");
    expect(oom.code).toBe("E_OOM");
    expect(L.snapshot()).toEqual(before);
    expect(L.allocations).toBe(2);
    L.allocate("act", "f32", 50).release(); // exactly at the budget is fine
    w.release();
    k.release();
  });

  it("a per-category budget limits only that category", () => {
    const L = new MemoryLedger();
    L.setBudget(1 << 10, "kv");
    expect(L.budget("kv")).toBe(1024);
    expect(L.budget()).toBeUndefined();
    const a = L.allocate("kv", "f32", 200);
    const t = L.allocate("tmp", "f32", 10_000);
    expect(() => L.allocate("kv", "f32", 57)).toThrow(/'kv' budget of 1.00 KiB/);
    const before = L.snapshot();
    expect(() => L.allocate("kv/layer0", "f32", 100)).toThrow(OutOfMemoryError);
    expect(L.snapshot()).toEqual(before);
    L.setBudget(undefined, "kv");
    L.allocate("kv", "f32", 1000).release();
    expect(() => L.setBudget(-1)).toThrow(ValueError);
    expect(() => L.setBudget(Number.NaN)).toThrow(/non-negative number of bytes, got NaN/);
    a.release();
    t.release();
  });

  it("tensor creation goes through the budget too", () => {
    const L = new MemoryLedger({ budget: 64 });
    withLedger(L, () => {
      const t = zeros([4, 4]);
      expect(() => zeros([1])).toThrow(OutOfMemoryError);
      t.dispose();
    });
    expect(L.live()).toBe(0);
  });
});

describe("scopes", () => {
  it("dispose everything created inside except the returned tensors and kept ones", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      let kept: Tensor | undefined;
      const r = scope(() => {
        const a = zeros([10]);
        const b = add(a, a);
        kept = keep(zeros([3]));
        return { b, list: [mul(b, b)] };
      });
      expect(r.b.disposed).toBe(false);
      expect(r.list[0]!.disposed).toBe(false);
      expect(L.live()).toBe(40 + 40 + 12);
      r.b.dispose();
      r.list[0]!.dispose();
      kept!.dispose();
    });
    expect(L.live()).toBe(0);
  });

  it("a throw inside a scope frees everything created there", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const x = randn([8, 8], new Rng(1), { requiresGrad: true });
      const start = L.live();
      expect(() =>
        scope(() => {
          const y = exp(matmul(x, x));
          scope(() => softmax(y));
          throw new Error("inside");
        }),
      ).toThrow("inside");
      expect(L.live()).toBe(start);
      x.dispose();
    });
    expect(L.live()).toBe(0);
  });

  it("return live bytes to their start for any composition of ops (property)", () => {
    type Cmd = { op: number; i: number; j: number };
    const cmd = fc.record({ op: fc.nat(11), i: fc.nat(50), j: fc.nat(50) });
    fc.assert(
      fc.property(
        fc.array(cmd, { maxLength: 25 }),
        fc.boolean(),
        fc.boolean(),
        (cmds: Cmd[], requiresGrad, doBackward) => {
          const L = new MemoryLedger();
          return withLedger(L, () => {
            const rng = new Rng(7);
            const inputs = [
              randn([4, 4], rng, { requiresGrad }),
              randn([4, 4], rng, { requiresGrad, category: "weights" }),
            ];
            const start = L.live();
            const run = (list: readonly Cmd[], pool: Tensor[], depth: number): Tensor => {
              for (const { op, i, j } of list) {
                const a = pool[i % pool.length]!;
                const b = pool[j % pool.length]!;
                switch (op) {
                  case 0:
                    pool.push(add(a, b));
                    break;
                  case 1:
                    pool.push(mul(a, b));
                    break;
                  case 2:
                    pool.push(matmul(a, b, { transB: true }));
                    break;
                  case 3:
                    pool.push(softmax(a));
                    break;
                  case 4:
                    pool.push(transpose(a));
                    break;
                  case 5:
                    pool.push(reshape(reshape(a, [16]), [4, 4]));
                    break;
                  case 6:
                    pool.push(concat([narrow(a, 0, 2), narrow(b, 2, 4)]));
                    break;
                  case 7:
                    pool.push(add(a, sum(b, 1, true)));
                    break;
                  case 8:
                    pool.push(exp(mul(a, tensor([0.1]))));
                    break;
                  case 9:
                    // Disposing an intermediate early (not an input, not one an outer pool holds).
                    if (depth > 0 || inputs.includes(a)) break;
                    a.dispose();
                    for (let q = 0; q < pool.length; q++) if (pool[q] === a) pool[q] = zeros([4, 4]);
                    break;
                  default:
                    if (depth < 2) pool.push(scope(() => run(list.slice(0, 3), [a, b], depth + 1)));
                }
                if (pool.length === 0) pool.push(zeros([4, 4]));
              }
              return pool[pool.length - 1]!;
            };
            scope(() => {
              const last = run(cmds, [...inputs], 0);
              if (doBackward && last.requiresGrad && !last.disposed) backward(sum(last));
            });
            for (const x of inputs) {
              x.grad?.dispose();
              x.grad = null;
            }
            const ok = L.live() === start;
            for (const x of inputs) if (!x.disposed) x.dispose();
            return ok && L.live() === 0;
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The ledger must not lie: compare with V8's count of bytes held by ArrayBuffers.

/** V8's collector when it can be exposed at runtime (flag set before the first use of `gc`). */
function exposeGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

describe("ledger vs process.memoryUsage().arrayBuffers", () => {
  it("agrees within 8 MiB while allocating and freeing 320 MiB of tensors", async () => {
    const MiB = 2 ** 20;
    /** Slack for unrelated buffers (vitest's own, fast-check's, Node internals) allocated meanwhile. */
    const SLACK = 8 * MiB;
    const gc = exposeGc();
    const L = new MemoryLedger();
    gc?.();
    const ab0 = process.memoryUsage().arrayBuffers;
    const tensors: Tensor[] = [];
    const rows: { ledger: number; arrayBuffers: number }[] = [];
    withLedger(L, () => {
      for (let i = 0; i < 32; i++) {
        const t = empty([(10 * MiB) / 4], { category: i % 2 ? "weights" : "act" });
        t.data[0] = i; // touch the storage so it is really there
        tensors.push(t);
        if (i % 8 === 7)
          rows.push({ ledger: L.live(), arrayBuffers: process.memoryUsage().arrayBuffers - ab0 });
      }
    });
    expect(L.live()).toBe(320 * MiB);
    for (const r of rows) expect(Math.abs(r.arrayBuffers - r.ledger)).toBeLessThanOrEqual(SLACK);
    for (const t of tensors) t.dispose();
    tensors.length = 0;
    expect(L.live()).toBe(0);
    expect(L.peak()).toBe(320 * MiB);
    if (gc) {
      // Freeing is only visible to V8 after a collection; with a collector we can assert it too.
      // ArrayBuffer memory is swept after the collection itself: collect, yield, collect again.
      gc();
      await new Promise((r) => setTimeout(r, 10));
      gc();
      const after = process.memoryUsage().arrayBuffers - ab0;
      if (process.env.LEDGER_XCHECK_LOG) console.log(JSON.stringify({ rows, afterFree: after, gc: true }));
      expect(Math.abs(after - L.live())).toBeLessThanOrEqual(SLACK);
    }
    // Without a collector, release is GC-dependent in V8, so only the allocation deltas are asserted.
  });
});

describe("diffSnapshots", () => {
  it("reports live bytes gained and the peak above the start, per category", () => {
    const ledger = new MemoryLedger();
    const keepA = ledger.allocate("weights/x", "f32", 10);
    const before = ledger.snapshot();
    ledger.resetPeak();
    const t = ledger.allocate("tmp", "f32", 100);
    const a = ledger.allocate("act", "f32", 5);
    t.release();
    const d = diffSnapshots(before, ledger.snapshot());
    expect(d.live).toEqual({ act: 20, tmp: 0, weights: 0 });
    expect(d.peakAbove).toEqual({ act: 20, tmp: 400, weights: 0 });
    expect(d.liveTotal).toBe(20);
    expect(d.peakAboveTotal).toBe(420);
    a.release();
    keepA.release();
  });
});

describe("allocations beyond what the engine can hold", () => {
  it("give an OutOfMemoryError naming the request, never a raw RangeError, and leak nothing", () => {
    const ledger = new MemoryLedger({ name: "huge" });
    let thrown: unknown;
    try {
      ledger.allocate("act", "f32", 2 ** 40);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(OutOfMemoryError);
    expect((thrown as OutOfMemoryError).requested).toBe(2 ** 42);
    expect(ledger.live()).toBe(0);
  });
});
