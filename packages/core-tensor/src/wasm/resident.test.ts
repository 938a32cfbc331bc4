import { afterAll, describe, expect, it } from "vitest";
import { jsBackend, withBackend } from "../backend.js";
import { f32ToF16 } from "../dtype.js";
import { OutOfMemoryError } from "../errors.js";
import { matmulArgs, matmulNaive } from "../kernels/matmul.js";
import { MemoryLedger, withLedger } from "../ledger.js";
import { Rng } from "../rng.js";
import { clone, empty, randn } from "../tensor.js";
import {
  dequantRowBytes,
  dequantRowNaive,
  NF4_TABLE,
  nibbleRoundingBound,
  wasmMatmulDequant,
  x16RoundingBound,
  xCodeLevels,
} from "./dequant.js";
import { copyElements } from "./fused.js";
import { wasmAvailable } from "./loader.js";
import { GEMV_SPLIT_MIN_WORK, wasmMatmul } from "./matmul.js";
import { allocateResident, RESIDENT_HEADROOM, ResidentStorage, withResidentWeights } from "./resident.js";
import { disposeWasm, WASM_MAX_BYTES, wasmRuntime } from "./runtime.js";
import { wasmBackend } from "./wasm-backend.js";

/** Packed GEMV (f32 SIMD sums of decoded codes) vs an f64 sum over the oracle's decoded row. */
const GEMV_PACKED_TOL = { atol: 1e-4, rtol: 1e-4 } as const;

/** GEMV (f32 SIMD, 4-lane partial sums) vs the f64-accumulating naive oracle, k ≤ 1100. */
const GEMV_F32_TOL = { atol: 1e-3, rtol: 1e-4 } as const;

afterAll(() => disposeWasm());

/** allocateResident, which must find room here. */
function resident(...args: Parameters<typeof allocateResident>): ResidentStorage {
  const s = allocateResident(...args);
  if (!s) throw new Error("allocateResident found no room");
  return s;
}

describe.skipIf(!wasmAvailable())("resident weights in WASM memory", () => {
  it("charge their category once, free their block on release, and leak nothing across loops", () => {
    const rt = wasmRuntime();
    const ledger = new MemoryLedger();
    const before = rt.heap.liveBytes;
    for (let round = 0; round < 50; round++) {
      const a = resident(rt, ledger, "weights/attn", "f32", 1000 + round);
      const b = resident(rt, ledger, "weights/ffn", "u8", 777);
      expect(a.data.every((v) => v === 0)).toBe(true);
      expect(rt.addressOf(a.data)).toBe(a.address);
      expect(ledger.live("weights/attn")).toBe(4 * (1000 + round));
      expect(ledger.live("tmp")).toBe(0);
      // The ledger agrees with the allocator (block sizes are the bytes rounded up to 64).
      expect(rt.heap.liveBytes - before).toBe(
        Math.ceil((4 * (1000 + round)) / 64) * 64 + Math.ceil(777 / 64) * 64,
      );
      a.data.fill(round + 1); // dirty the block: the next allocation must still be zeroed
      a.retain();
      a.release();
      expect(rt.heap.liveBytes - before).toBeGreaterThan(0); // one reference still holds it
      a.release();
      b.release();
      b.release(); // idempotent once gone
    }
    expect(ledger.live()).toBe(0);
    expect(rt.heap.liveBytes).toBe(before);
  });

  it("decline (undefined, nothing charged) a block that would not fit below the wasm32 limit", () => {
    const rt = wasmRuntime();
    const ledger = new MemoryLedger();
    const before = rt.heap.liveBytes;
    expect(allocateResident(rt, ledger, "weights", "u8", WASM_MAX_BYTES - RESIDENT_HEADROOM)).toBeUndefined();
    expect(rt.heap.liveBytes).toBe(before);
    expect(ledger.live()).toBe(0);
  });

  it("give the heap block back when the ledger refuses the charge", () => {
    const rt = wasmRuntime();
    const ledger = new MemoryLedger({ budget: 100 });
    const before = rt.heap.liveBytes;
    expect(() => allocateResident(rt, ledger, "weights", "f32", 1000)).toThrow(OutOfMemoryError);
    expect(rt.heap.liveBytes).toBe(before);
    expect(ledger.live()).toBe(0);
  });

  it("empty(…, { resident: true }) lands in the active backend's memory (WASM), else an ordinary storage", () => {
    const rt = wasmRuntime();
    const ledger = new MemoryLedger();
    const before = rt.heap.liveBytes;
    withLedger(ledger, () => {
      const onWasm = withBackend(wasmBackend(2), () => empty([3, 5], { resident: true }));
      expect(onWasm.storage).toBeInstanceOf(ResidentStorage);
      expect(rt.addressOf(onWasm.data)).toBe((onWasm.storage as ResidentStorage).address);
      expect(onWasm.data.every((v) => v === 0)).toBe(true);
      expect(ledger.live("tmp")).toBe(60);
      const onJs = withBackend(jsBackend, () => empty([3, 5], { resident: true }));
      expect(onJs.storage).not.toBeInstanceOf(ResidentStorage);
      const plain = withBackend(wasmBackend(2), () => empty([3, 5]));
      expect(plain.storage).not.toBeInstanceOf(ResidentStorage);
      expect(ledger.live("tmp")).toBe(180);
      for (const t of [onWasm, onJs, plain]) t.dispose();
    });
    expect(ledger.live()).toBe(0);
    expect(rt.heap.liveBytes).toBe(before);
  });

  it("copyElements copies between resident views with the memory.copy kernel, and otherwise as set", () => {
    const rt = wasmRuntime();
    const ledger = new MemoryLedger();
    const a = resident(rt, ledger, "kv", "f32", 300);
    const b = resident(rt, ledger, "tmp", "f32", 300);
    const plain = new Float32Array(300);
    for (let i = 0; i < 300; i++) a.data[i] = i + 0.5;
    copyElements(b.data, 7, a.data, 100, 150);
    const want = new Float32Array(300);
    want.set(a.data.subarray(100, 250), 7);
    expect(Array.from(b.data)).toEqual(Array.from(want));
    copyElements(b.data, 0, a.data, 0, 0); // nothing
    expect(b.data[0]).toBe(0);
    copyElements(plain, 1, a.data, 2, 5); // one side not resident: set
    expect(Array.from(plain.subarray(0, 7))).toEqual([0, 2.5, 3.5, 4.5, 5.5, 6.5, 0]);
    expect(() => copyElements(b.data, 299, a.data, 0, 2)).toThrow(RangeError); // past the end, as set
    for (const s of [a, b]) s.release();
    expect(ledger.live()).toBe(0);
  });

  it("withResidentWeights places weights/ and adapters/ tensors, and nothing else", () => {
    const ledger = new MemoryLedger();
    withLedger(ledger, () => {
      const src = randn([8, 8], new Rng(1));
      const [w, t] = withResidentWeights(wasmBackend(2), () => [
        clone(src, { category: "weights/x" }),
        clone(src, { category: "tmp" }),
      ]);
      expect(w!.storage).toBeInstanceOf(ResidentStorage);
      expect(t!.storage).not.toBeInstanceOf(ResidentStorage);
      expect(Array.from(w!.data)).toEqual(Array.from(src.data));
      expect(ledger.live("weights/x")).toBe(256);
      for (const x of [src, w!, t!]) x.dispose();
    });
    expect(ledger.live()).toBe(0);
  });

  it("matmul reads a resident Wᵀ in place: GEMV and thin GEMM equal the oracle on odd shapes", () => {
    const rt = wasmRuntime();
    const rng = new Rng(3);
    const ledger = new MemoryLedger();
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [1, 7, 13],
      [3, 33, 65],
      [4, 130, 1031],
      [1, 4099, 520], // above GEMV_SPLIT_MIN_WORK: two threads
      [2, 9, 5],
      // W above 1 MiB (the kernel's banded eight-row pass) with several rows of x, rows that are no
      // multiple of 8 and k past the last 16-float step: the 4-float steps, then single floats
      [3, 1029, 300],
      [2, 1100, 263],
    ];
    for (const [m, n, k] of shapes) {
      for (const accumulate of [false, true]) {
        const ws = resident(rt, ledger, "weights/t", "f32", n * k);
        const w = ws.data as Float32Array;
        for (let i = 0; i < w.length; i++) w[i] = rng.uniform() * 2 - 1;
        const x = Float32Array.from({ length: m * k }, () => rng.uniform() * 2 - 1);
        const init = Float32Array.from({ length: m * n }, () => rng.uniform());
        const want = init.slice();
        const got = init.slice();
        matmulNaive({ ...matmulArgs(m, n, k, x, w, want, { transB: true }), accumulate });
        for (const threads of [1, 2]) {
          const out = got.slice();
          ledger.resetPeak();
          withLedger(ledger, () =>
            wasmMatmul(rt, { ...matmulArgs(m, n, k, x, w, out, { transB: true }), accumulate }, threads),
          );
          // Workspace is x and y only (each 64-byte aligned, plus the 2-thread split's 64-byte
          // block counter): W is read in place, never copied.
          expect(ledger.peak("tmp")).toBeLessThanOrEqual(4 * m * (n + k) + 192);
          for (let i = 0; i < want.length; i++) {
            expect(Math.abs(out[i]! - want[i]!)).toBeLessThanOrEqual(
              GEMV_F32_TOL.atol + GEMV_F32_TOL.rtol * Math.abs(want[i]!),
            );
          }
        }
        expect(ledger.live("tmp")).toBe(0);
        ws.release();
      }
    }
    expect(4099 * 520).toBeGreaterThanOrEqual(GEMV_SPLIT_MIN_WORK);
    expect(ledger.live()).toBe(0);
  });

  for (const format of ["q8_0", "q4_0", "nibble", "i8"] as const) {
    it(`${format}: a resident packed weight is read in place and equals its dequantise-then-FP32 oracle`, () => {
      const rt = wasmRuntime();
      const rng = new Rng(11);
      const ledger = new MemoryLedger();
      for (const [m, n, k] of [
        [1, 5, 32],
        [3, 17, 96],
        [1, 2051, 1024], // two threads
        [4, 1030, 160],
      ] as const) {
        const rb = dequantRowBytes(format, k);
        const ds = resident(rt, ledger, "weights/q", "u8", n * rb);
        const data = ds.data as Uint8Array;
        for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
        if (format === "q8_0" || format === "q4_0") {
          const bs = format === "q8_0" ? 34 : 18;
          for (let at = 0; at < data.length; at += bs) {
            const h = f32ToF16((rng.uniform() * 2 - 1) * 0.1);
            data[at] = h & 255;
            data[at + 1] = h >> 8;
          }
        }
        const group = 32;
        const ss = resident(rt, ledger, "weights/q", "f32", n * Math.ceil(k / group));
        const scales = (ss.data as Float32Array).map(() => rng.uniform() * 0.1);
        (ss.data as Float32Array).set(scales);
        const sv = ss.data as Float32Array;
        const weight =
          format === "nibble"
            ? { format, data, codebook: Float32Array.from(NF4_TABLE), group, scales: sv }
            : format === "i8"
              ? { format, data, group, scales: sv }
              : { format, data };
        const x = Float32Array.from({ length: m * k }, () => rng.uniform() * 2 - 1);
        for (const threads of [1, 2]) {
          const y = new Float32Array(m * n);
          ledger.resetPeak();
          withLedger(ledger, () => wasmMatmulDequant({ m, n, k, x, weight, y, threads }, rt));
          // Workspace is x, y, the codebook and per-thread kernel scratch (x's codes; the nibble
          // kernel's also holds 64 rows of decoded scales): W was not copied.
          const scratch = format === "nibble" ? rt.packedGemvScratchBytes(true, m, k) : 4 * m * k + 64;
          expect(ledger.peak("tmp")).toBeLessThanOrEqual(
            4 * m * (k + n) + 2 * scratch + 8 * (k + 16) + 64 * 8,
          );
          for (let j = 0; j < n; j++) {
            const row = dequantRowNaive(
              format,
              data,
              j,
              k,
              format === "nibble" || format === "i8" ? (weight as never) : undefined,
            );
            for (let i = 0; i < m; i++) {
              let want = 0;
              for (let c = 0; c < k; c++) want += x[i * k + c]! * row[c]!;
              // Q8_0 / Q4_0 / i8 kernels also round x per 32-block (x16RoundingBound: 16 bits; relaxed
              // build 8, xCodeLevels); the nibble kernel rounds x per x-block and NF4's codebook to
              // integers (nibbleRoundingBound).
              const x16 =
                format === "q8_0" || format === "q4_0" || format === "i8" // i8: k, group multiples of 32
                  ? x16RoundingBound(row, x, i * k, k, 32, xCodeLevels(wasmRuntime().flavor, format))
                  : format === "nibble"
                    ? nibbleRoundingBound(row, NF4_TABLE, sv.subarray(j * (k / group)), group, x, i * k, k)
                    : 0;
              expect(Math.abs(y[i * n + j]! - want)).toBeLessThanOrEqual(
                GEMV_PACKED_TOL.atol + GEMV_PACKED_TOL.rtol * Math.abs(want) + x16,
              );
            }
          }
        }
        ds.release();
        ss.release();
      }
      expect(ledger.live()).toBe(0);
    });
  }
});
