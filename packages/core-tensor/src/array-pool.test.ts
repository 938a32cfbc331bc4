/**
 * Tests of the ledger's array pool: released arrays come back zeroed for the same dtype and length,
 * never for another, the pool stays within its byte caps, and accounting is unchanged by reuse.
 */
import { describe, expect, it } from "vitest";
import { ArrayPool, POOL_MAX_ARRAY_BYTES, POOL_MAX_BYTES } from "./array-pool.js";
import { MemoryLedger } from "./ledger.js";

describe("ArrayPool", () => {
  it("returns a released array zeroed, only for the same dtype and length", () => {
    const pool = new ArrayPool();
    const a = new Float32Array(100).fill(7);
    pool.give("f32", a);
    expect(pool.bytes).toBe(400);
    expect(pool.take("f32", 99)).toBeUndefined();
    expect(pool.take("i32", 100)).toBeUndefined();
    const b = pool.take("f32", 100);
    expect(b).toBe(a);
    expect(Array.from(b!).every((x) => x === 0)).toBe(true);
    expect(pool.bytes).toBe(0);
    expect(pool.take("f32", 100)).toBeUndefined();
  });

  it("keeps at most POOL_MAX_BYTES, and no array above POOL_MAX_ARRAY_BYTES", () => {
    const pool = new ArrayPool();
    pool.give("u8", new Uint8Array(POOL_MAX_ARRAY_BYTES + 1));
    expect(pool.bytes).toBe(0);
    const n = POOL_MAX_ARRAY_BYTES / 4;
    for (let i = 0; i < (2 * POOL_MAX_BYTES) / POOL_MAX_ARRAY_BYTES; i++)
      pool.give("f32", new Float32Array(n));
    expect(pool.bytes).toBe(POOL_MAX_BYTES);
    pool.clear();
    expect(pool.bytes).toBe(0);
  });
});

describe("MemoryLedger's pool", () => {
  it("reuses a released storage's array (zeroed); live and peak bytes are as without the pool", () => {
    const ledger = new MemoryLedger();
    const s = ledger.allocate("tmp", "f32", 256);
    (s.data as Float32Array).fill(3);
    const first = s.data;
    s.release();
    expect(ledger.live()).toBe(0);
    expect(ledger.pooledBytes).toBe(1024);
    const t = ledger.allocate("tmp/x", "f32", 256);
    expect(t.data).toBe(first);
    expect(Array.from(t.data).every((x) => x === 0)).toBe(true);
    expect(ledger.pooledBytes).toBe(0);
    expect(ledger.live("tmp/x")).toBe(1024);
    expect(ledger.peak()).toBe(1024);
    // A view keeps the storage (and its array) out of the pool until its own release.
    const view = t.retain();
    t.release();
    expect(ledger.pooledBytes).toBe(0);
    view.release();
    expect(ledger.pooledBytes).toBe(1024);
    ledger.releasePool();
    expect(ledger.pooledBytes).toBe(0);
    expect(ledger.allocate("tmp", "f32", 256).data).not.toBe(first);
  });

  it("never pools bytes it did not allocate (external charges)", () => {
    const ledger = new MemoryLedger();
    ledger.external("tmp/wasm", 4096).release();
    expect(ledger.pooledBytes).toBe(0);
  });
});
