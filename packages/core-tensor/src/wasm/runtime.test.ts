/**
 * The WASM runtime's thread hand-off: helper jobs (polled, then slept), jobs the caller takes back
 * from a late helper, the FP32 GEMV's dynamic row split, failures and dispose. Not here: kernel
 * numerics (matmul/resident/gemv tests) or the shared runtime's flavor (flavor.test.ts).
 */

import { afterEach, describe, expect, it, vi } from "vitest";
import { host } from "#host";
import { ValueError } from "../errors.js";
import { Rng } from "../rng.js";
import { gemvChunkRows } from "./matmul.js";
import { WASM_MAX_BYTES, WasmRuntime } from "./runtime.js";

const runtimes: WasmRuntime[] = [];
afterEach(() => {
  for (const rt of runtimes.splice(0)) rt.dispose();
});
function runtime(): WasmRuntime {
  const rt = new WasmRuntime();
  runtimes.push(rt);
  return rt;
}

/** Block this thread for `ms` (long enough for an idle helper to stop polling and sleep). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** W [n, k] and x [k] at 64-byte aligned addresses, y [n] after them, and a counter word. */
function gemvLayout(rt: WasmRuntime, n: number, k: number, seed: number) {
  const w = Math.ceil(rt.scratchBase / 64) * 64;
  const x = w + Math.ceil((n * k * 4) / 64) * 64;
  const y = x + Math.ceil((k * 4) / 64) * 64;
  const counter = y + Math.ceil((n * 4) / 64) * 64;
  const { f32 } = rt.ensure(counter + 64);
  const rng = new Rng(seed);
  for (let i = 0; i < n * k; i++) f32[(w >> 2) + i] = rng.uniform() * 2 - 1;
  for (let i = 0; i < k; i++) f32[(x >> 2) + i] = rng.uniform() * 2 - 1;
  return { w, x, y, counter };
}

describe("WasmRuntime hand-off", () => {
  it("the FP32 GEMV's dynamic split hands out every block exactly once and equals one thread bit for bit", () => {
    const rt = runtime();
    for (const [n, k, chunk] of [
      [1029, 257, 8],
      [1029, 257, 64],
      [4096, 512, gemvChunkRows(512)],
      [40, 33, 1024], // one block: one thread does it all
    ] as const) {
      const { w, x, y, counter } = gemvLayout(rt, n, k, n + k);
      rt.run("gemvF32", [[1, k, x, k, w, k, y, n, 0, n, 0, 0, 0]]);
      const want = new Float32Array(rt.memory.buffer, y, n).slice();
      new Float32Array(rt.memory.buffer, y, n).fill(Number.NaN);
      new Int32Array(rt.memory.buffer, counter, 1)[0] = 0;
      const job = (c: number) => [1, k, x, k, w, k, y, n, 0, n, 0, counter, c];
      // One thread from each end (as the GEMVs split), both from the front, both from the back.
      for (const [c0, c1] of [
        [chunk, -chunk],
        [chunk, chunk],
        [-chunk, -chunk],
      ] as const) {
        new Float32Array(rt.memory.buffer, y, n).fill(Number.NaN);
        new Int32Array(rt.memory.buffer, counter, 1)[0] = 0;
        rt.run("gemvF32", [job(c0), job(c1)]);
        expect(new Float32Array(rt.memory.buffer, y, n)).toEqual(want);
        // Each block was taken once, and each of the two kernel calls drew one number past the end:
        // the counter word holds the front's draws in its low 16 bits, the back's in its high 16.
        const drawn = new Uint32Array(rt.memory.buffer, counter, 1)[0]!;
        expect((drawn & 0xffff) + (drawn >>> 16)).toBe(Math.ceil(n / chunk) + 2);
        if (c0 > 0 && c1 > 0) expect(drawn >>> 16).toBe(0);
        if (c0 < 0 && c1 < 0) expect(drawn & 0xffff).toBe(0);
      }
    }
  });

  it("many back-to-back 2-thread runs, some after the helper went to sleep, all complete and agree", () => {
    const rt = runtime();
    const n = 264;
    const k = 96;
    const { w, x, y, counter } = gemvLayout(rt, n, k, 7);
    rt.run("gemvF32", [[1, k, x, k, w, k, y, n, 0, n, 0, 0, 0]]);
    const want = new Float32Array(rt.memory.buffer, y, n).slice();
    const i32 = new Int32Array(rt.memory.buffer, counter, 1);
    const out = new Float32Array(rt.memory.buffer, y, n);
    for (let r = 0; r < 3000; r++) {
      if (r % 500 === 499) pause(5); // past the helper's polling window: the next job wakes it
      out.fill(0);
      i32[0] = 0;
      rt.run("gemvF32", [
        [1, k, x, k, w, k, y, n, 0, n, 0, counter, 8],
        [1, k, x, k, w, k, y, n, 0, n, 0, counter, -8],
      ]);
      expect((i32[0]! & 0xffff) + (i32[0]! >>> 16)).toBe(n / 8 + 2);
      if (r % 100 === 0) expect(out).toEqual(want);
    }
    // Static halves too (each job its own rows, possibly both run by the caller).
    for (let r = 0; r < 500; r++) {
      out.fill(0);
      rt.run("gemvF32", [
        [1, k, x, k, w, k, y, n, 0, 128, 0, 0, 0],
        [1, k, x, k, w, k, y, n, 128, n, 0, 0, 0],
      ]);
    }
    expect(out).toEqual(want);
    expect(rt.helperCount).toBe(1);
  });

  it("prestartHelpers boots a helper that the first split run adopts (one thread, not two)", () => {
    const rt = runtime();
    const n = 256;
    const k = 64;
    const { w, x, y, counter } = gemvLayout(rt, n, k, 5);
    const spawn = vi.spyOn(host, "startHelper");
    rt.prestartHelpers(1);
    rt.prestartHelpers(1); // idempotent
    expect(spawn).toHaveBeenCalledTimes(1);
    expect(rt.helperCount).toBe(0); // booting, not adopted yet
    rt.run("gemvF32", [[1, k, x, k, w, k, y, n, 0, n, 0, 0, 0]]);
    const want = new Float32Array(rt.memory.buffer, y, n).slice();
    const out = new Float32Array(rt.memory.buffer, y, n);
    out.fill(0);
    rt.run("gemvF32", [
      [1, k, x, k, w, k, y, n, 0, n, 0, counter, 8],
      [1, k, x, k, w, k, y, n, 0, n, 0, counter, -8],
    ]);
    expect(out).toEqual(want);
    expect(rt.helperCount).toBe(1);
    rt.prestartHelpers(1); // already running: nothing more starts
    expect(rt.helperCount).toBe(1);
    expect(spawn).toHaveBeenCalledTimes(1);
    spawn.mockRestore();
  });

  it("dispose stops a helper that is still booting", () => {
    const rt = runtime();
    rt.prestartHelpers(1);
    rt.dispose();
    expect(rt.disposed).toBe(true);
    expect(() => rt.prestartHelpers(1)).toThrow(ValueError);
  });

  it("a share that traps surfaces as a ValueError naming the kernel, and the helper keeps working", () => {
    const rt = runtime();
    const { w, x, y, counter } = gemvLayout(rt, 64, 64, 3);
    const past = rt.reservedBytes + 65536; // beyond the memory grown so far: the first load traps
    expect(past + 1024).toBeLessThan(WASM_MAX_BYTES);
    for (let r = 0; r < 20; r++) {
      // The caller's own share is a long read, so the helper usually takes the bad job itself;
      // when it is late the caller runs that job and must fail the same way.
      const err = (() => {
        try {
          rt.run("readSum", [
            [w, 64 * 64 * 4],
            [past, 1024],
          ]);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ValueError);
      expect((err as ValueError).message).toMatch(/readSum failed on a helper thread's share/);
    }
    new Int32Array(rt.memory.buffer, counter, 1)[0] = 0;
    const job = [1, 64, x, 64, w, 64, y, 64, 0, 64, 0, counter, 8];
    rt.run("gemvF32", [job, job]);
    expect(new Int32Array(rt.memory.buffer, counter, 1)[0]).toBe(64 / 8 + 2);
  });

  it("dispose while the helper is still polling stops it at once; the runtime then refuses work", () => {
    for (let r = 0; r < 5; r++) {
      const rt = new WasmRuntime();
      const { w } = gemvLayout(rt, 8, 64, r);
      rt.run("readSum", [
        [w, 1024],
        [w + 1024, 1024],
      ]);
      const t0 = performance.now();
      rt.dispose(); // the helper polls for ~1 ms after each job
      expect(performance.now() - t0).toBeLessThan(200);
      expect(rt.disposed).toBe(true);
      expect(() => rt.run("readSum", [[w, 64]])).toThrow(ValueError);
      rt.dispose(); // idempotent
    }
  });
});
