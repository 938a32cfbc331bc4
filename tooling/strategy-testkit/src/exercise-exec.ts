/**
 * Runs a strategy's executable part once on small inputs, whatever its slot, and throws (through
 * vitest's `expect`) when it misbehaves: the strategy contract's "the exec works" check. Not a full
 * slot suite: each slot's own contract (attentionContract, weightsContract, …) tests it properly.
 */
import {
  getLedger,
  type KvDtypeExec,
  type LinearWeight,
  matmul,
  matmulArgs,
  matmulNaive,
  Rng,
  randn,
  type Slot,
  type Strategy,
  scope,
  type Tensor,
  tensor,
} from "@tradeoffs/core-tensor";
import { expect } from "vitest";
import { naiveAttention } from "./attention-oracle.js";
import { sampleArch } from "./index.js";

const TOL = { atol: 1e-4, rtol: 1e-4 } as const;

function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (!(Math.abs(a - b) <= TOL.atol + TOL.rtol * Math.abs(b))) {
      expect.fail(`${what}: element ${i} is ${a}, expected ${b} (±${TOL.atol} + ${TOL.rtol}·|b|)`);
    }
  }
}

/**
 * A frozen f32 linear layer over a copy of `w` in `category`, written out here (the testkit sits
 * below the weights packages).
 */
function plainLinear(w: Tensor, category: string): LinearWeight {
  const [out, inp] = w.shape as [number, number];
  const own = tensor(w.data, w.shape, { category });
  return {
    inFeatures: inp,
    outFeatures: out,
    format: "FP32",
    bytes: own.bytes,
    apply: (x) => matmul(x, own, { transB: true }),
    parameters: () => [],
    dequantize: () => tensor(own.data, own.shape),
    f32Weight: () => own,
    dispose: () => own.dispose(),
  };
}

/** An f32 K/V store written out here (the testkit sits below the kv-dtype package). */
const f32Kv: KvDtypeExec = {
  dtype: "fp32",
  bytesPerElement: 4,
  scaleBytesPerVector: 0,
  allocate(count, dim, category) {
    const storage = getLedger().allocate(category, "f32", count * dim);
    const data = storage.data as Float32Array;
    return {
      count,
      dim,
      bytes: storage.bytes,
      f32: data,
      write: (i, src, off) => data.set(src.subarray(off, off + dim), i * dim),
      read: (i, dst, off) => dst.set(data.subarray(i * dim, (i + 1) * dim), off),
      dispose: () => storage.release(),
    };
  },
};

/** x [m, k] · wᵀ [k, n] in f64 loops. */
function reference(x: Float32Array, w: Float32Array, m: number, k: number, n: number): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += x[i * k + q]! * w[j * k + q]!;
      y[i * n + j] = s;
    }
  return y;
}

const exercises: { readonly [S in Slot]: (s: Strategy<S>) => void } = {
  backend: (s) => {
    const b = s.exec.backend;
    expect(b.name, "backend name").toBe(s.name);
    const rng = new Rng(1);
    const a = Float32Array.from({ length: 3 * 5 }, () => rng.uniform() - 0.5);
    const w = Float32Array.from({ length: 4 * 5 }, () => rng.uniform() - 0.5);
    const c = new Float32Array(3 * 4);
    const want = new Float32Array(3 * 4);
    b.matmul(matmulArgs(3, 4, 5, a, w, c, { transB: true }));
    matmulNaive(matmulArgs(3, 4, 5, a, w, want, { transB: true }));
    expectNear(c, want, "backend matmul");
  },
  attention: (s) => {
    scope(() => {
      const rng = new Rng(2);
      const q = randn([1, 2, 3, 4], rng);
      const k = randn([1, 1, 5, 4], rng);
      const v = randn([1, 1, 5, 4], rng);
      const o = { causal: true, window: 3 };
      expectNear(s.exec.attend(q, k, v, o).data, naiveAttention(q, k, v, o).data, "attend");
    });
  },
  heads: (s) => {
    // Head counts the strategy accepts (GQA[kvHeads=4] rejects 2 query heads through its rules).
    const valid = [1, 4, 8, 16].filter(
      (h) => s.check({ arch: sampleArch({ heads: h, kvHeads: h }) }).length === 0,
    );
    expect(valid.length, "accepts some head count of 1, 4, 8, 16").toBeGreaterThan(0);
    for (const h of valid) {
      scope(() => {
        const D = 2;
        const w = randn([h * D, 3], new Rng(h));
        const out = s.exec.convertKv(w, h, h, D);
        const kv = out.dim(0) / D;
        expect(Number.isInteger(kv) && kv >= 1 && h % kv === 0, `convertKv to ${kv} heads of ${h}`).toBe(
          true,
        );
        expect(out.dim(1)).toBe(3);
      });
    }
  },
  weights: (s) => {
    scope(() => {
      const rng = new Rng(3);
      const w = randn([8, 64], rng, { std: 0.1 });
      const packed = s.exec.pack(w, "weights/test");
      try {
        const x = randn([2, 64], rng);
        const dq = packed.dequantize();
        expect(dq.shape, "dequantize shape").toEqual([8, 64]);
        expectNear(packed.apply(x).data, reference(x.data, dq.data, 2, 64, 8), "pack(w).apply(x)");
      } finally {
        packed.dispose();
      }
    });
  },
  adapters: (s) => {
    scope(() => {
      const rng = new Rng(4);
      const base = plainLinear(randn([6, 10], rng), "weights/test");
      const role = s.exec.targets[0];
      expect(role, "adapters name at least one target").toBeDefined();
      const wrapped = s.exec.wrap(base, role!, rng);
      try {
        const y = wrapped.apply(randn([3, 10], rng));
        expect(y.shape, "adapted output shape").toEqual([3, 6]);
        expect(wrapped.parameters().length, "adapters are trainable").toBeGreaterThan(0);
      } finally {
        wrapped.dispose();
      }
    });
  },
  checkpoint: (s) => {
    const segs = s.exec.segments(4, 1 << 10, 1 << 8);
    const layers = segs.flat();
    expect(new Set(layers).size, "each layer in at most one segment").toBe(layers.length);
    for (const l of layers) expect(l >= 0 && l < 4, `layer ${l} of 4`).toBe(true);
  },
  ffn: (s) => {
    const rng = new Rng(5);
    const ffn = s.exec.create({
      dModel: 8,
      hidden: 16,
      weights: { pack: plainLinear },
      adapters: null,
      rng,
      category: "weights/ffn",
    });
    try {
      scope(() => {
        const y = ffn.forward(randn([2, 3, 8], rng));
        expect(y.shape, "ffn output shape").toEqual([2, 3, 8]);
        expect(y.toArray().every(Number.isFinite), "ffn output finite").toBe(true);
      });
    } finally {
      ffn.dispose();
    }
  },
  "kv-dtype": (s) => {
    const store = s.exec.allocate(2, 8, "kv");
    try {
      const src = Float32Array.from({ length: 8 }, (_, i) => i - 3.5);
      const back = new Float32Array(8);
      store.write(1, src, 0);
      store.read(1, back, 0);
      for (let i = 0; i < 8; i++)
        expect(Math.abs(back[i]! - src[i]!), `kv round trip ${i}`).toBeLessThan(0.1);
    } finally {
      store.dispose();
    }
  },
  "kv-memory": (s) => {
    scope(() => {
      const cache = s.exec.createCache({
        batch: 1,
        layers: 1,
        kvHeads: 1,
        headDim: 2,
        maxSeq: 4,
        dtype: f32Kv,
      });
      try {
        const k = randn([1, 1, 2, 2], new Rng(6));
        cache.append(0, k, k);
        cache.advance(2);
        expect(cache.length, "cache length after 2 tokens").toBe(2);
        expect(Array.from(cache.read(0).k.data), "cached keys").toEqual(Array.from(k.data));
      } finally {
        cache.dispose();
      }
    });
  },
};

/** Run `s`'s executable part once on small inputs; throws an assertion error naming what failed. */
export function exerciseExec(s: Strategy): void {
  (exercises[s.slot] as (s: Strategy) => void)(s);
}
