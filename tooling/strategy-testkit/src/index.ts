/**
 * The contract suite every strategy runs, and one suite per slot for its executable part. Call
 * these from a package's tests: `strategyContract([flash, standard], registry)`.
 * Not a place for oracles of one strategy: those live beside the strategy.
 */
import {
  type ArchSpec,
  type AttendOptions,
  type Backend,
  getLedger,
  type KvCacheSpec,
  type Plan,
  parseConfig,
  type Registry,
  Rng,
  randn,
  type Slot,
  type Strategy,
  type StrategyFactory,
  scope,
  type Tensor,
  tensor,
  withBackend,
} from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { naiveAttention } from "./attention-oracle.js";
import { exerciseExec } from "./exercise-exec.js";
import { deepFreeze, snapshot, structuralDifferences } from "./structural.js";

export { naiveAttention, oracleVisibleKeys } from "./attention-oracle.js";
export { exerciseExec } from "./exercise-exec.js";
export { deepFreeze, snapshot, structuralDifferences } from "./structural.js";

/** A small architecture for contract tests. */
export function sampleArch(overrides: Partial<ArchSpec> = {}): ArchSpec {
  return {
    name: "contract",
    layers: 2,
    dModel: 32,
    heads: 4,
    kvHeads: 4,
    headDim: 8,
    ffnHidden: 64,
    ffnKind: "swiglu",
    vocab: 64,
    tiedEmbeddings: false,
    norm: "rmsnorm",
    positional: "rope",
    maxSeq: 64,
    biases: false,
    experts: 1,
    topK: 1,
    sharedExperts: 0,
    capacity: Number.POSITIVE_INFINITY,
    ropeTheta: 10000,
    normEps: 1e-5,
    ...overrides,
  };
}

/** A baseline plan for contract tests. */
export function samplePlan(arch: ArchSpec = sampleArch()): Plan {
  return {
    arch,
    workload: { kind: "infer", batch: 2, seq: 16, generate: 4 },
    // Baseline-shaped costs written out here (the testkit sits below the strategy packages).
    backend: { name: "JS", matmulWorkspaceBytes: () => 0, residentWeights: false },
    weights: {
      format: "FP32",
      bitsPerWeight: 32,
      bytesFor: (out, inp) => 4 * out * inp,
      trainable: true,
      workspaceElements: () => 0,
    },
    baseBytes: 4,
    adapters: null,
    attention: {
      savedElements: (s) => s.batch * s.heads * s.tq * s.tk,
      tmpElements: (s) => 2 * s.batch * s.heads * s.tq * s.tk,
      matmulOperandElements: () => 0,
      keysPerQuery: (_tq, tk) => tk,
      exactTmp: true,
    },
    kv: { dtype: "fp32", bytesPerElement: 4, scaleBytesPerVector: 0, reservedTokens: (t) => t },
    checkpoint: { segments: () => [], peakAct: () => 0 },
    notes: [],
  };
}

/**
 * The contract for every strategy: identity fields, frozen options, a label that parses back to
 * itself, a pure `plan()`, an executable part for its slot.
 */
export function strategyContract(strategies: readonly Strategy[], registry: Registry, slot?: Slot): void {
  for (const s of strategies) {
    describe(`strategy contract: ${s.label}`, () => {
      it("has a name, a slot and a canonical label starting with its name", () => {
        expect(s.name).toMatch(/^[A-Za-z][A-Za-z0-9_-]*$/);
        if (slot) expect(s.slot).toBe(slot);
        expect(s.label.startsWith(s.name)).toBe(true);
      });
      it("has frozen options", () => {
        expect(Object.isFrozen(s.options)).toBe(true);
        expect(Object.isFrozen(s)).toBe(true);
      });
      it("round-trips label → parse → label", () => {
        const cfg = parseConfig(s.label, registry);
        expect(cfg.label).toBe(s.label);
        expect(cfg.strategies[0]?.options).toEqual(s.options);
      });
      it("plans purely: the input plan is untouched and the result is deterministic, hooks included", () => {
        const p = deepFreeze(samplePlan());
        const before = snapshot(p);
        const a = s.plan(p);
        const b = s.plan(p);
        expect(structuralDifferences(p, before, "input plan")).toEqual([]);
        expect(structuralDifferences(a, b, "plan(p)")).toEqual([]);
      });
      it("provides a working executable part for its slot", () => {
        expectNoLeak(() => exerciseExec(s));
      });
    });
  }
}

/** Every factory's defaults round-trip too. */
export function factoryContract(factories: readonly StrategyFactory[], registry: Registry): void {
  strategyContract(
    factories.map((f) => f()),
    registry,
  );
}

/** Relative-or-absolute closeness: |a − b| ≤ atol + rtol·|b| everywhere. */
export function expectClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  tol: { atol: number; rtol?: number },
  what = "value",
): void {
  const a =
    "data" in actual && !(actual instanceof Float32Array)
      ? (actual as Tensor).toArray()
      : Array.from(actual as ArrayLike<number>);
  const b =
    "data" in expected && !(expected instanceof Float32Array)
      ? (expected as Tensor).toArray()
      : Array.from(expected as ArrayLike<number>);
  expect(a.length).toBe(b.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!) - (tol.rtol ?? 0) * Math.abs(b[i]!);
    if (!(err <= worst) || Number.isNaN(a[i]!)) {
      worst = Number.isNaN(a[i]!) ? Number.POSITIVE_INFINITY : err;
      at = i;
    }
  }
  if (worst > tol.atol) {
    expect.fail(`${what}: element ${at} is ${a[at]} vs ${b[at]} (excess ${worst} > atol ${tol.atol})`);
  }
}

/** The ledger returns to its starting live bytes after `fn`. */
export function expectNoLeak(fn: () => void): void {
  const before = getLedger().live();
  fn();
  expect(getLedger().live()).toBe(before);
}

/** The shapes attentionContract runs: [H, Hkv, Tq, Tk], MHA and grouped, square and Tq < Tk. */
const ATTENTION_SHAPES = [
  [2, 2, 5, 5],
  [4, 2, 3, 7],
  [2, 1, 1, 9],
  [2, 2, 6, 13],
] as const;

/**
 * Attention slot: outputs equal `oracle` (default: the independent `naiveAttention`) on random inputs,
 * causal and not × window and not, with the default and an explicit scale, on every backend in
 * `backends` (run with that backend active; default: whichever is active).
 */
export function attentionContract(
  s: Strategy<"attention">,
  tol: { atol: number; rtol?: number },
  options: {
    readonly oracle?: (q: Tensor, k: Tensor, v: Tensor, o: AttendOptions) => Tensor;
    readonly backends?: readonly Backend[];
  } = {},
): void {
  const oracle = options.oracle ?? naiveAttention;
  for (const backend of options.backends ?? [undefined]) {
    describe(`attention contract: ${s.label}${backend ? ` on ${backend.name}` : ""}`, () => {
      for (const [H, Hkv, Tq, Tk] of ATTENTION_SHAPES)
        for (const causal of [true, false])
          for (const window of [undefined, 1, 3])
            for (const scale of [undefined, 0.7]) {
              const o: AttendOptions = { causal, window, scale };
              it(`matches the oracle: H=${H} Hkv=${Hkv} Tq=${Tq} Tk=${Tk} ${JSON.stringify(o)}`, () => {
                const run = () =>
                  expectNoLeak(() =>
                    scope(() => {
                      const rng = new Rng(7);
                      const q = randn([2, H, Tq, 8], rng);
                      const k = randn([2, Hkv, Tk, 8], rng);
                      const v = randn([2, Hkv, Tk, 8], rng);
                      expectClose(s.exec.attend(q, k, v, o), oracle(q, k, v, o), tol, "attention output");
                    }),
                  );
                if (backend) withBackend(backend, run);
                else run();
              });
            }
    });
  }
}

/** Weights slot: packed apply equals x · dequantize(W)ᵀ, and packing charges `weights/…`. */
export function weightsContract(s: Strategy<"weights">, tol: { atol: number; rtol?: number }): void {
  describe(`weights contract: ${s.label}`, () => {
    it("apply(x) equals x · dequantize(W)ᵀ and charges weights/test", () => {
      expectNoLeak(() =>
        scope(() => {
          const rng = new Rng(3);
          const w = randn([16, 64], rng, { std: 0.1 });
          const before = getLedger().live("weights");
          const packed = s.exec.pack(w, "weights/test");
          expect(getLedger().live("weights") - before).toBe(packed.bytes);
          const x = randn([3, 64], rng);
          const y = packed.apply(x);
          const dq = packed.dequantize();
          const xd = x.data;
          const wd = dq.data;
          const ref = new Float32Array(3 * 16);
          for (let i = 0; i < 3; i++)
            for (let j = 0; j < 16; j++) {
              let acc = 0;
              for (let q = 0; q < 64; q++) acc += xd[i * 64 + q]! * wd[j * 64 + q]!;
              ref[i * 16 + j] = acc;
            }
          expectClose(y, ref, tol, "packed matmul");
          packed.dispose();
        }),
      );
    });
  });
}

/** kv-dtype slot: write/read round trip within `tol`; bytes match the formula. */
export function kvDtypeContract(s: Strategy<"kv-dtype">, tol: { atol: number; rtol?: number }): void {
  describe(`kv-dtype contract: ${s.label}`, () => {
    it("round-trips vectors and charges values plus scales to kv", () => {
      expectNoLeak(() => {
        const e = s.exec;
        const before = getLedger().live("kv");
        const store = e.allocate(10, 16, "kv");
        expect(store.bytes).toBe(10 * (16 * e.bytesPerElement + e.scaleBytesPerVector));
        expect(getLedger().live("kv") - before).toBe(store.bytes);
        const src = new Float32Array(16).map((_, i) => Math.sin(i) * 3);
        store.write(4, src, 0);
        const back = new Float32Array(16);
        store.read(4, back, 0);
        expectClose(back, src, tol, "kv round trip");
        store.dispose();
      });
    });
  });
}

/** kv-memory slot: what is appended reads back, across several appends; dispose frees all. */
export function kvMemoryContract(s: Strategy<"kv-memory">, dtype: KvCacheSpec["dtype"]): void {
  describe(`kv-memory contract: ${s.label}`, () => {
    it("reads back what was appended, layer by layer", () => {
      expectNoLeak(() =>
        scope(() => {
          const rng = new Rng(5);
          const cache = s.exec.createCache({ batch: 2, layers: 2, kvHeads: 2, headDim: 4, maxSeq: 8, dtype });
          const k1 = randn([2, 2, 3, 4], rng);
          const v1 = randn([2, 2, 3, 4], rng);
          const k2 = randn([2, 2, 1, 4], rng);
          const v2 = randn([2, 2, 1, 4], rng);
          for (const l of [0, 1]) cache.append(l, k1, v1);
          cache.advance(3);
          for (const l of [0, 1]) cache.append(l, k2, v2);
          cache.advance(1);
          expect(cache.length).toBe(4);
          const { k, v } = cache.read(1);
          expect(k.shape).toEqual([2, 2, 4, 4]);
          const kd = k.toArray();
          const vd = v.toArray();
          const k1d = k1.toArray();
          const v2d = v2.toArray();
          // position 2 of (b=1, h=0) came from k1; position 3 from v2
          expect(kd.slice(((1 * 2 + 0) * 4 + 2) * 4, ((1 * 2 + 0) * 4 + 3) * 4)).toEqual(
            k1d.slice(((1 * 2 + 0) * 3 + 2) * 4, ((1 * 2 + 0) * 3 + 3) * 4),
          );
          expect(vd.slice(((1 * 2 + 1) * 4 + 3) * 4, ((1 * 2 + 1) * 4 + 4) * 4)).toEqual(
            v2d.slice((1 * 2 + 1) * 4, (1 * 2 + 1) * 4 + 4),
          );
          cache.dispose();
        }),
      );
    });
  });
}

/**
 * heads slot: converting an MHA projection gives exactly the K/V heads the strategy's `plan()` sets,
 * a count that divides the query heads.
 */
export function headsContract(s: Strategy<"heads">, heads: readonly number[]): void {
  describe(`heads contract: ${s.label}`, () => {
    it("converts K/V projections to the head count its plan sets, which divides the query heads", () => {
      for (const h of heads) {
        const arch = sampleArch({ heads: h, kvHeads: h });
        if (s.check({ arch }).length > 0) continue;
        const planned = s.plan(samplePlan(arch)).arch.kvHeads;
        const D = 2;
        scope(() => {
          const w = randn([h * D, 3], new Rng(h));
          const out = s.exec.convertKv(w, h, h, D);
          expect(out.shape).toEqual([planned * D, 3]);
        });
        expect(Number.isInteger(planned) && planned >= 1 && h % planned === 0).toBe(true);
      }
    });
  });
}

/**
 * checkpoint slot: segments are disjoint runs of consecutive layers within [0, L), for L from 1 to 16
 * layers of `layerActBytes` saved activations and `layerInputBytes` of input each. Every call must
 * succeed: pass sizes the strategy can schedule.
 */
export function checkpointContract(
  s: Strategy<"checkpoint">,
  layerActBytes = 1 << 16,
  layerInputBytes = 1 << 12,
): void {
  describe(`checkpoint contract: ${s.label}`, () => {
    it("returns disjoint runs of consecutive layers", () => {
      for (const L of [1, 2, 4, 7, 16]) {
        // Sizes of a small model's layer: a strategy given these must schedule every layer count
        // (an infeasible budget is the package's own test, with sizes chosen to be infeasible).
        const segs = s.exec.segments(L, layerActBytes, layerInputBytes);
        const seen = new Set<number>();
        for (const seg of segs) {
          expect(seg.length).toBeGreaterThan(0);
          for (let i = 0; i < seg.length; i++) {
            expect(seg[i]).toBeGreaterThanOrEqual(0);
            expect(seg[i]).toBeLessThan(L);
            if (i > 0) expect(seg[i]).toBe(seg[i - 1]! + 1);
            expect(seen.has(seg[i]!)).toBe(false);
            seen.add(seg[i]!);
          }
        }
      }
    });
  });
}

/** ffn slot: forward keeps the shape, parameters get gradients, dispose frees everything. */
export function ffnContract(s: Strategy<"ffn">, weights: Strategy<"weights">): void {
  describe(`ffn contract: ${s.label}`, () => {
    it("maps [..., d] to [..., d] and frees its weights on dispose", async () => {
      const { backward, sum } = await import("@tradeoffs/core-tensor");
      expectNoLeak(() => {
        const rng = new Rng(9);
        const ffn = s.exec.create({
          dModel: 16,
          hidden: 32,
          weights: weights.exec,
          adapters: null,
          rng,
          category: "weights/ffn",
        });
        scope(() => {
          const x = randn([2, 3, 16], rng);
          const y = ffn.forward(x);
          expect(y.shape).toEqual([2, 3, 16]);
          const loss = sum(y);
          backward(loss);
        });
        for (const p of ffn.parameters()) {
          expect(p.grad).not.toBeNull();
          p.grad?.dispose();
          p.grad = null;
        }
        ffn.dispose();
      });
    });
  });
}

export { tensor };
