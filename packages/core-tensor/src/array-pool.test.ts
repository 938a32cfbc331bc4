/**
 * Tests of the ledger's array pool: size classes at most 1/8 above the request, released buffers
 * reused zeroed for any request of the same class, byte caps, and accounting unchanged by reuse.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArrayPool, classBytes, POOL_MAX_ARRAY_BYTES, POOL_MAX_BYTES } from "./array-pool.js";
import { MemoryLedger } from "./ledger.js";

describe("ArrayPool", () => {
  it("size classes hold the request and are at most 1/8 larger (above 64 bytes)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: POOL_MAX_ARRAY_BYTES }), (bytes) => {
        const c = classBytes(bytes);
        expect(c).toBeGreaterThanOrEqual(bytes);
        expect(c).toBeLessThanOrEqual(Math.max(64, bytes * 1.125));
        expect(classBytes(c)).toBe(c);
      }),
    );
  });

  it("reuses a released buffer zeroed for a request of the same class, as any dtype", () => {
    const pool = new ArrayPool();
    const a = pool.allocate("f32", 100) as Float32Array;
    expect(a.length).toBe(100);
    a.fill(7);
    pool.give(a);
    expect(pool.bytes).toBe(classBytes(400));
    const other = pool.allocate("f32", 1000); // another class: a fresh buffer
    expect(other.buffer).not.toBe(a.buffer);
    const b = pool.allocate("i32", 99); // 396 bytes: the same class
    expect(b.buffer).toBe(a.buffer);
    expect(b).toBeInstanceOf(Int32Array);
    expect(b.length).toBe(99);
    expect(Array.from(new Float32Array(a.buffer, 0, 100)).every((x, i) => i >= 99 || x === 0)).toBe(true);
    expect(pool.bytes).toBe(0);
  });

  it("keeps at most POOL_MAX_BYTES; larger arrays are exact-size and never kept", () => {
    const pool = new ArrayPool();
    const big = pool.allocate("u8", POOL_MAX_ARRAY_BYTES + 1);
    expect(big.buffer.byteLength).toBe(POOL_MAX_ARRAY_BYTES + 1);
    pool.give(big);
    expect(pool.bytes).toBe(0);
    const n = POOL_MAX_ARRAY_BYTES / 4;
    const arrays = Array.from({ length: (2 * POOL_MAX_BYTES) / POOL_MAX_ARRAY_BYTES }, () =>
      pool.allocate("f32", n),
    );
    for (const a of arrays) pool.give(a);
    expect(pool.bytes).toBe(POOL_MAX_BYTES);
    pool.clear();
    expect(pool.bytes).toBe(0);
  });
});

describe("ArrayPool at its byte cap", () => {
  it("makes room by dropping the classes released least recently, never the one being kept", () => {
    const pool = new ArrayPool();
    const eighth = POOL_MAX_BYTES / 8; // a class size (a power of two, below POOL_MAX_ARRAY_BYTES)
    const old = Array.from({ length: 8 }, () => pool.allocate("u8", eighth));
    for (const a of old) pool.give(a); // the cap, all in one class
    expect(pool.bytes).toBe(POOL_MAX_BYTES);
    // one of the same class: nothing else to drop, so it is not kept
    pool.give(pool.allocate("u8", eighth));
    expect(pool.bytes).toBe(POOL_MAX_BYTES);
    // a newer, larger class (as K/V reads grow each token): the old class makes room
    const next = classBytes(eighth + 1);
    const fresh = pool.allocate("u8", next);
    pool.give(fresh);
    expect(pool.bytes).toBeLessThanOrEqual(POOL_MAX_BYTES);
    expect(pool.allocate("u8", next).buffer).toBe(fresh.buffer); // the new class was kept
    const reused = pool.allocate("u8", eighth).buffer; // and some of the old one
    expect(old.some((a) => a.buffer === reused)).toBe(true);
  });
});

describe("MemoryLedger's pool", () => {
  it("reuses a released storage's buffer (zeroed); live and peak bytes are the exact request", () => {
    const ledger = new MemoryLedger();
    const s = ledger.allocate("tmp", "f32", 256);
    (s.data as Float32Array).fill(3);
    const buffer = s.data.buffer;
    s.release();
    expect(ledger.live()).toBe(0);
    expect(ledger.pooledBytes).toBe(1024);
    const t = ledger.allocate("tmp/x", "f32", 250);
    expect(t.data.buffer).toBe(buffer);
    expect(t.bytes).toBe(1000);
    expect(Array.from(t.data).every((x) => x === 0)).toBe(true);
    expect(ledger.pooledBytes).toBe(0);
    expect(ledger.live("tmp/x")).toBe(1000);
    expect(ledger.peak()).toBe(1024);
    // A view keeps the storage (and its buffer) out of the pool until its own release.
    const view = t.retain();
    t.release();
    expect(ledger.pooledBytes).toBe(0);
    view.release();
    expect(ledger.pooledBytes).toBe(1024);
    ledger.releasePool();
    expect(ledger.pooledBytes).toBe(0);
    expect(ledger.allocate("tmp", "f32", 256).data.buffer).not.toBe(buffer);
  });

  it("never pools bytes it did not allocate (external charges)", () => {
    const ledger = new MemoryLedger();
    ledger.external("tmp/wasm", 4096).release();
    expect(ledger.pooledBytes).toBe(0);
  });
});
