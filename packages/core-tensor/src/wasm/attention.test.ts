import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { getLedger, MemoryLedger, withLedger } from "../ledger.js";
import { Rng } from "../rng.js";
import { wasmAttention } from "./attention.js";
import { allocateResident } from "./resident.js";
import { disposeWasm, wasmRuntime } from "./runtime.js";

/** Online softmax in f32 tiles vs the naive f64 softmax over the full score row. */
const WASM_ATTENTION_TOL = { atol: 2e-5, rtol: 1e-4 } as const;

afterAll(() => disposeWasm());

/**
 * The oracle: the full score row per query, masked, softmax in f64, weighted sum. Mask (AttendOptions):
 * query i's last key is hi = i + tk − tq when causal (bottom-right), else tk − 1; a window keeps only
 * the last `window` keys up to hi.
 */
function naiveAttention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  o: { heads: number; kvHeads: number; tq: number; tk: number; d: number; causal: boolean; window: number },
): Float64Array {
  const { heads, kvHeads, tq, tk, d } = o;
  const out = new Float64Array(heads * tq * d);
  const scale = 1 / Math.sqrt(d);
  for (let h = 0; h < heads; h++) {
    const kh = Math.floor(h / (heads / kvHeads));
    for (let i = 0; i < tq; i++) {
      const hi = o.causal ? Math.min(i + tk - tq, tk - 1) : tk - 1;
      const s = new Float64Array(tk).fill(Number.NEGATIVE_INFINITY);
      for (let j = 0; j < tk; j++) {
        if (j > hi) continue;
        if (o.window > 0 && hi - j >= o.window) continue;
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[(h * tq + i) * d + c]! * k[(kh * tk + j) * d + c]!;
        s[j] = dot * scale;
      }
      const mx = Math.max(...s);
      if (mx === Number.NEGATIVE_INFINITY) continue;
      let sum = 0;
      for (let j = 0; j < tk; j++) sum += Math.exp(s[j]! - mx);
      for (let j = 0; j < tk; j++) {
        const p = Math.exp(s[j]! - mx) / sum;
        if (p === 0) continue;
        for (let c = 0; c < d; c++) out[(h * tq + i) * d + c]! += p * v[(kh * tk + j) * d + c]!;
      }
    }
  }
  return out;
}

/** Each query row's log Σ exp of its scaled visible scores in f64 (−∞ when it sees no key): the mask rule of `naiveAttention`. */
function naiveLogSumExp(
  q: Float32Array,
  k: Float32Array,
  o: { heads: number; kvHeads: number; tq: number; tk: number; d: number; causal: boolean; window: number },
): Float64Array {
  const { heads, kvHeads, tq, tk, d } = o;
  const out = new Float64Array(heads * tq);
  for (let h = 0; h < heads; h++) {
    const kh = Math.floor(h / (heads / kvHeads));
    for (let i = 0; i < tq; i++) {
      const hi = o.causal ? Math.min(i + tk - tq, tk - 1) : tk - 1;
      let sum = 0;
      for (let j = 0; j <= hi; j++) {
        if (o.window > 0 && hi - j >= o.window) continue;
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[(h * tq + i) * d + c]! * k[(kh * tk + j) * d + c]!;
        sum += Math.exp(dot / Math.sqrt(d));
      }
      out[h * tq + i] = Math.log(sum);
    }
  }
  return out;
}

describe("wasm blocked attention vs the naive oracle (WASM_ATTENTION_TOL)", () => {
  it("causal / windowed / GQA / decode (tq < tk, and one query per head), odd and larger head sizes and blocks, 1 and 2 threads, with the log-sum-exp", () => {
    fc.assert(
      fc.property(
        fc.record({
          kvHeads: fc.integer({ min: 1, max: 2 }),
          group: fc.integer({ min: 1, max: 3 }),
          tq: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 40 })),
          extra: fc.integer({ min: 0, max: 90 }),
          d: fc.oneof(fc.integer({ min: 1, max: 19 }), fc.constantFrom(24, 32, 37, 64, 70)),
          causal: fc.boolean(),
          window: fc.constantFrom(0, 1, 5, 17),
          blockQ: fc.constantFrom(1, 7, 16, 64),
          blockK: fc.constantFrom(1, 5, 16, 64),
          threads: fc.constantFrom(1, 2),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        (c) => {
          const rng = new Rng(c.seed);
          const heads = c.kvHeads * c.group;
          const tk = c.tq + c.extra;
          const rnd = (n: number) => new Float32Array(n).map(() => rng.uniform() * 4 - 2);
          const q = rnd(heads * c.tq * c.d);
          const k = rnd(c.kvHeads * tk * c.d);
          const v = rnd(c.kvHeads * tk * c.d);
          const out = new Float32Array(heads * c.tq * c.d);
          const lse = new Float32Array(heads * c.tq);
          const o = { heads, kvHeads: c.kvHeads, tq: c.tq, tk, d: c.d, causal: c.causal, window: c.window };
          const tiles = { blockQ: c.blockQ, blockK: c.blockK, threads: c.threads, lse };
          wasmAttention(q, k, v, out, { ...o, ...tiles });
          const want = naiveAttention(q, k, v, o);
          for (let i = 0; i < want.length; i++) {
            if (
              Math.abs(out[i]! - want[i]!) >
              WASM_ATTENTION_TOL.atol + WASM_ATTENTION_TOL.rtol * Math.abs(want[i]!)
            )
              return false;
          }
          const wantLse = naiveLogSumExp(q, k, o);
          for (let r = 0; r < wantLse.length; r++) {
            const [got, w] = [lse[r]!, wantLse[r]!];
            if (
              w === Number.NEGATIVE_INFINITY ? got !== w : Math.abs(got - w) > 1e-4 * Math.max(1, Math.abs(w))
            )
              return false;
          }
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });

  it("non-causal window: each query sees the last `window` keys (issue 14's case: [550, 550])", () => {
    const q = new Float32Array([0, 0]);
    const k = new Float32Array([0, 0, 0, 0]);
    const v = new Float32Array([1, 10, 100, 1000]);
    const out = new Float32Array(2);
    wasmAttention(q, k, v, out, { heads: 1, kvHeads: 1, tq: 2, tk: 4, d: 1, causal: false, window: 2 });
    expect(Array.from(out)).toEqual([550, 550]);
    wasmAttention(q, k, v, out, { heads: 1, kvHeads: 1, tq: 2, tk: 4, d: 1, causal: true, window: 2 });
    expect(Array.from(out)).toEqual([55, 550]);
  });

  it("resident operands (a decode step's gathered K/V) are read and written in place: the same output bit for bit, less workspace", () => {
    const rt = wasmRuntime();
    const rng = new Rng(21);
    const shape = { heads: 4, kvHeads: 2, tq: 1, tk: 300, d: 24, causal: true } as const;
    const sizes = { q: 4 * 24, k: 2 * 300 * 24 };
    const fill = (a: Float32Array) => a.map(() => rng.uniform() * 2 - 1);
    const [q, k, v] = [
      fill(new Float32Array(sizes.q)),
      fill(new Float32Array(sizes.k)),
      fill(new Float32Array(sizes.k)),
    ];
    const held = new MemoryLedger();
    const place = (a: Float32Array) => {
      const s = allocateResident(rt, held, "tmp/test", "f32", a.length)!;
      (s.data as Float32Array).set(a);
      return s;
    };
    const [rq, rk, rv, ro] = [place(q), place(k), place(v), place(new Float32Array(sizes.q))];
    // The workspace each call charges (tmp/wasm), seen by a ledger of its own.
    const charged = (fn: () => void) => {
      const l = new MemoryLedger();
      withLedger(l, fn);
      return l.snapshot().peakPaths["tmp/wasm"] ?? 0;
    };
    for (const threads of [1, 2]) {
      const copied = new Float32Array(sizes.q);
      const copiedBytes = charged(() => wasmAttention(q, k, v, copied, { ...shape, threads }, rt));
      const inPlace = ro.data as Float32Array;
      const inPlaceBytes = charged(() =>
        wasmAttention(
          rq.data as Float32Array,
          rk.data as Float32Array,
          rv.data as Float32Array,
          inPlace,
          { ...shape, threads },
          rt,
        ),
      );
      expect(Array.from(inPlace)).toEqual(Array.from(copied));
      // q, K, V and the output are not laid out again: 4·(2·q + 2·k) bytes less
      expect(copiedBytes - inPlaceBytes).toBe(4 * (2 * sizes.q + 2 * sizes.k));
    }
    for (const s of [rq, rk, rv, ro]) s.release();
    expect(held.live()).toBe(0);
  });

  it("K/V heads `kvStride` apart (a cache reservation of S > tk positions read in place): the contiguous result bit for bit, resident or copied", () => {
    const rt = wasmRuntime();
    const rng = new Rng(22);
    const [heads, kvHeads, tk, S, d] = [6, 3, 37, 50, 16];
    const compact = { k: new Float32Array(kvHeads * tk * d), v: new Float32Array(kvHeads * tk * d) };
    const strided = { k: new Float32Array(kvHeads * S * d), v: new Float32Array(kvHeads * S * d) };
    for (const side of ["k", "v"] as const) {
      strided[side].fill(Number.NaN); // rows past tk must never be read
      for (let h = 0; h < kvHeads; h++)
        for (let e = 0; e < tk * d; e++) {
          const x = rng.uniform() * 2 - 1;
          compact[side][h * tk * d + e] = x;
          strided[side][h * S * d + e] = x;
        }
    }
    const held = new MemoryLedger();
    const place = (a: Float32Array) => {
      const s = allocateResident(rt, held, "tmp/test", "f32", a.length)!;
      (s.data as Float32Array).set(a);
      return s;
    };
    const [rk, rv] = [place(strided.k), place(strided.v)];
    for (const tq of [1, 3])
      for (const threads of [1, 2]) {
        const q = new Float32Array(heads * tq * d).map(() => rng.uniform() * 2 - 1);
        const shape = { heads, kvHeads, tq, tk, d, causal: true, threads, blockK: 16 };
        const want = new Float32Array(heads * tq * d);
        wasmAttention(q, compact.k, compact.v, want, shape, rt);
        const copied = new Float32Array(heads * tq * d);
        wasmAttention(q, strided.k, strided.v, copied, { ...shape, kvStride: S * d }, rt);
        const inPlace = new Float32Array(heads * tq * d);
        const kv = [rk.data as Float32Array, rv.data as Float32Array] as const;
        wasmAttention(q, kv[0], kv[1], inPlace, { ...shape, kvStride: S * d }, rt);
        expect(Array.from(copied)).toEqual(Array.from(want));
        expect(Array.from(inPlace)).toEqual(Array.from(want));
      }
    expect(() =>
      wasmAttention(new Float32Array(d), compact.k, compact.v, new Float32Array(d), {
        heads: 1,
        kvHeads: 1,
        tq: 1,
        tk,
        d,
        causal: true,
        kvStride: tk * d - 1,
      }),
    ).toThrow(/kvStride .* must be an integer ≥ tk·d/);
    for (const s of [rk, rv]) s.release();
  });

  it("rejects heads not divisible by kvHeads, and leaks nothing", () => {
    const before = getLedger().live();
    const x = new Float32Array(48);
    expect(() =>
      wasmAttention(x, x, x, x, { heads: 3, kvHeads: 2, tq: 2, tk: 2, d: 4, causal: true }),
    ).toThrow(/multiple of kvHeads/);
    wasmAttention(x, x, x, x, { heads: 2, kvHeads: 1, tq: 3, tk: 3, d: 4, causal: true });
    expect(getLedger().live()).toBe(before);
  });
});
