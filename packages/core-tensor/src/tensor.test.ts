/**
 * Tests of Tensor creation, views versus copies (as the ledger sees them), dtype casts and disposal.
 */
import { describe, expect, it } from "vitest";
import { bf16ToF32, f32ToBF16 } from "./dtype.js";
import { DisposedError, DTypeError, ShapeError, ValueError } from "./errors.js";
import { MemoryLedger, withLedger } from "./ledger.js";
import { narrow, reshape, transpose } from "./ops/layout.js";
import { Rng } from "./rng.js";
import {
  alias,
  arange,
  castTo,
  clone,
  full,
  ones,
  rand,
  randn,
  shapeSize,
  tensor,
  toF32,
  zeros,
} from "./tensor.js";

function inLedger<T>(fn: (L: MemoryLedger) => T): T {
  const L = new MemoryLedger();
  const r = withLedger(L, () => fn(L));
  return r;
}

describe("creation", () => {
  it("from flat values with a shape, and from nested arrays", () => {
    inLedger((L) => {
      const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(a.shape).toEqual([2, 3]);
      expect(a.toArray()).toEqual([1, 2, 3, 4, 5, 6]);
      const b = tensor([
        [
          [1, 2],
          [3, 4],
        ],
        [
          [5, 6],
          [7, 8],
        ],
      ]);
      expect(b.shape).toEqual([2, 2, 2]);
      expect(b.toArray()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const c = tensor(Float32Array.of(1.5, 2.5));
      expect(c.shape).toEqual([2]);
      expect(c.dtype).toBe("f32");
      expect(L.live("tmp")).toBe(24 + 32 + 8);
      const h = tensor([1, 0.1, 65504], [3], { dtype: "f16", category: "weights" });
      expect(h.toArray()).toEqual([1, 0.0999755859375, 65504]);
      expect(L.live("weights")).toBe(6);
      const ids = tensor([3, 1], [2], { dtype: "i32" });
      expect(ids.int32).toEqual(Int32Array.of(3, 1));
      expect(() => tensor([1, 2, 3], [2, 2])).toThrow(ShapeError);
      expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
      expect(() => tensor([1], [-1])).toThrow(/non-negative integers/);
      for (const t of [a, b, c, h, ids]) t.dispose();
      expect(L.live()).toBe(0);
    });
  });

  it("zeros, ones and full in every tensor dtype", () => {
    inLedger(() => {
      expect(zeros([2, 2]).toArray()).toEqual([0, 0, 0, 0]);
      expect(ones([3], { dtype: "i8" }).toArray()).toEqual([1, 1, 1]);
      expect(full([2], -2.5, { dtype: "bf16" }).toArray()).toEqual([-2.5, -2.5]);
      expect(full([2], 3.3, { dtype: "f16" }).toArray()).toEqual([3.30078125, 3.30078125]);
      expect(full([1], 7, { dtype: "u8" }).item()).toBe(7);
      expect(zeros([0, 5]).size).toBe(0);
      expect(shapeSize([])).toBe(1);
      expect(zeros([]).item()).toBe(0);
    });
  });

  it("randn and rand are deterministic for a seed, with the requested range and moments", () => {
    inLedger(() => {
      const a = randn([1000], new Rng(5));
      const b = randn([1000], new Rng(5));
      const c = randn([1000], new Rng(6));
      expect(a.toArray()).toEqual(b.toArray());
      expect(a.toArray()).not.toEqual(c.toArray());
      const s = randn([20000], new Rng(1), { mean: 3, std: 0.5 }).data;
      const m = s.reduce((p, x) => p + x, 0) / s.length;
      const sd = Math.sqrt(s.reduce((p, x) => p + (x - m) ** 2, 0) / s.length);
      // Standard error of the mean is 0.5/√20000 ≈ 0.0035; 0.02 is > 5 standard errors.
      expect(Math.abs(m - 3)).toBeLessThan(0.02);
      expect(Math.abs(sd - 0.5)).toBeLessThan(0.02);
      const u = rand([5000], new Rng(2), { low: -2, high: 3 }).data;
      expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
      expect(Math.max(...u)).toBeLessThan(3);
      expect(rand([3], new Rng(9)).toArray()).toEqual(rand([3], new Rng(9)).toArray());
      expect(() => rand([1], new Rng(1), { low: 1, high: 1 })).toThrow(ValueError);
    });
  });

  it("arange gives 0..n-1 as i32 by default, f32 on request", () => {
    inLedger(() => {
      const a = arange(5);
      expect(a.dtype).toBe("i32");
      expect(a.toArray()).toEqual([0, 1, 2, 3, 4]);
      expect(arange(3, { dtype: "f32" }).data).toEqual(Float32Array.of(0, 1, 2));
    });
  });
});

describe("views and copies", () => {
  it("narrow and reshape share storage: no new ledger bytes, writes are visible", () => {
    inLedger((L) => {
      const x = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [3, 2, 2]);
      const before = L.live();
      const allocs = L.allocations;
      const n = narrow(x, 1, 3);
      const r = reshape(x, [4, -1]);
      expect(n.shape).toEqual([2, 2, 2]);
      expect(n.toArray()).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
      expect(r.shape).toEqual([4, 3]);
      expect(L.live()).toBe(before);
      expect(L.allocations).toBe(allocs);
      n.data[0] = 100;
      expect(x.data[4]).toBe(100);
      expect(r.data[4]).toBe(100);
      x.dispose(); // the views keep the storage alive
      expect(L.live()).toBe(before);
      expect(n.toArray()[0]).toBe(100);
      n.dispose();
      r.dispose();
      expect(L.live()).toBe(0);
      const y = zeros([4, 3]);
      expect(() => narrow(y, 2, 5)).toThrow(/range \[2, 5\) is outside \[0, 4\]/);
      expect(() => reshape(y, [5, -1])).toThrow(ShapeError);
      expect(() => reshape(y, [-1, -1])).toThrow(ShapeError);
    });
  });

  it("transpose copies, and the copy shows in the ledger", () => {
    inLedger((L) => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const before = L.live("tmp");
      const t = transpose(x);
      expect(t.shape).toEqual([3, 2]);
      expect(t.toArray()).toEqual([1, 4, 2, 5, 3, 6]);
      expect(L.live("tmp")).toBe(before + 24);
      expect(t.storage).not.toBe(x.storage);
      const y = tensor(
        Array.from({ length: 24 }, (_, i) => i),
        [2, 3, 4],
      );
      const p = transpose(y, [2, 0, 1]);
      expect(p.shape).toEqual([4, 2, 3]);
      // p[k, i, j] = y[i, j, k]
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 3; j++)
          for (let k = 0; k < 4; k++) expect(p.data[k * 6 + i * 3 + j]).toBe(y.data[i * 12 + j * 4 + k]);
      expect(() => transpose(y, [0, 0, 1])).toThrow(/not a permutation/);
      expect(() => transpose(zeros([3]))).toThrow(/rank ≥ 2/);
    });
  });

  it("clone copies into a new storage, by default under the source's category", () => {
    inLedger((L) => {
      const x = tensor([1, 2], [2], { category: "weights/attn" });
      const c = clone(x);
      expect(L.live("weights/attn")).toBe(16);
      const g = clone(x, { category: "grad" });
      expect(L.live("grad")).toBe(8);
      c.data[0] = 9;
      expect(x.data[0]).toBe(1);
      g.dispose();
    });
  });
});

describe("dtype casts", () => {
  it("castTo rounds per the dtype; toF32 decodes every dtype", () => {
    inLedger((L) => {
      const x = tensor([1.0001, -3.5, 300.7, 1e-8]);
      expect(castTo(x, "f16").toArray()).toEqual([1, -3.5, 300.75, 0]);
      expect(castTo(x, "bf16").toArray()).toEqual([1, -3.5, 300, bf16ToF32(f32ToBF16(1e-8))]);
      // Integer casts round with Math.round (halves toward +∞) and clamp to the type's range.
      expect(castTo(x, "i8").toArray()).toEqual([1, -3, 127, 0]);
      expect(castTo(x, "u8").toArray()).toEqual([1, 0, 255, 0]);
      expect(castTo(x, "i32").toArray()).toEqual([1, -3, 301, 0]);
      const h = castTo(x, "f16", { category: "kv" });
      expect(L.live("kv")).toBe(8);
      const back = toF32(h);
      expect(back.dtype).toBe("f32");
      expect(back.toArray()).toEqual([1, -3.5, 300.75, 0]);
      // castTo from a non-f32 source decodes first and frees the temporary.
      const before = L.live();
      const i = castTo(h, "bf16");
      expect(L.live()).toBe(before + 8);
      expect(i.toArray()).toEqual([1, -3.5, 300, 0]);
      expect(() => h.data).toThrow(DTypeError);
      expect(() => x.int32).toThrow(/needs i32/);
    });
  });
});

describe("disposal", () => {
  it("dispose is idempotent; use after dispose throws DisposedError naming the tensor", () => {
    inLedger((L) => {
      const x = zeros([2, 3]);
      x.name = "w";
      x.dispose();
      x.dispose();
      expect(x.disposed).toBe(true);
      expect(L.live()).toBe(0);
      expect(() => x.data).toThrow(DisposedError);
      expect(() => x.toArray()).toThrow(/'w' tensor\[2×3\] f32 was used after dispose\(\)/);
      expect(() => alias(x)).toThrow(DisposedError);
    });
  });

  it("item and dim check their arguments", () => {
    inLedger(() => {
      const x = zeros([2, 3]);
      expect(x.dim(-1)).toBe(3);
      expect(x.rank).toBe(2);
      expect(() => x.dim(2)).toThrow(ShapeError);
      expect(() => x.item()).toThrow(/exactly one element/);
      expect(String(x)).toBe("tensor[2×3] f32");
    });
  });
});
