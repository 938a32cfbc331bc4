import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValueError } from "../errors.js";
import { HEAP_ALIGN, WasmHeap } from "./heap.js";

describe("WasmHeap", () => {
  it("aligns, reuses freed spans first-fit, and coalesces back to an empty heap", () => {
    const h = new WasmHeap(1000);
    expect(h.base % HEAP_ALIGN).toBe(0);
    const a = h.alloc(10);
    const b = h.alloc(100);
    const c = h.alloc(64);
    for (const x of [a, b, c]) expect(x % HEAP_ALIGN).toBe(0);
    expect(h.liveBytes).toBe(64 + 128 + 64);
    h.free(b);
    expect(h.alloc(128)).toBe(b); // the hole is reused
    h.free(a);
    h.free(c); // c touches top: top drops, then a's span is below b
    h.free(b); // all spans merge and return to the bump region
    expect(h.top).toBe(h.base);
    expect(h.freeBytes).toBe(0);
    expect(h.liveBlocks).toBe(0);
  });

  it("rejects double frees and non-positive sizes with a ValueError naming the value", () => {
    const h = new WasmHeap(0);
    const a = h.alloc(1);
    h.free(a);
    expect(() => h.free(a)).toThrow(ValueError);
    expect(() => h.alloc(0)).toThrow(/positive integer, got 0/);
  });

  it("property: any alloc/free sequence keeps blocks disjoint, accounted, and leaks nothing", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 5000 })), { maxLength: 60 }),
        (ops) => {
          const h = new WasmHeap(64);
          const live = new Map<number, number>();
          for (const [doFree, bytes] of ops) {
            if (doFree && live.size > 0) {
              const at = [...live.keys()][bytes % live.size]!;
              h.free(at);
              live.delete(at);
            } else live.set(h.alloc(bytes), bytes);
            const spans = [...live].map(
              ([at, b]) => [at, at + Math.ceil(b / HEAP_ALIGN) * HEAP_ALIGN] as const,
            );
            spans.sort((x, y) => x[0] - y[0]);
            for (let i = 1; i < spans.length; i++)
              expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
            for (const [, end] of spans) expect(end).toBeLessThanOrEqual(h.top);
            expect(h.liveBytes).toBe(spans.reduce((s, [a, e]) => s + e - a, 0));
          }
          for (const at of live.keys()) h.free(at);
          expect(h.top).toBe(h.base);
          expect(h.liveBytes).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
