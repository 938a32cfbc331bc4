/**
 * The pack cache: inside `withPackCache`, a second pack of the same source gives the bytes a fresh
 * encode gives, encodes once, and is charged to the ledger like any pack; a changed source, a view at
 * another offset or another format is encoded again; outside a scope nothing is kept.
 */
import { alias, MemoryLedger, Rng, randn, tensor, withLedger } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { bf16Format } from "./half.js";
import { int4Format } from "./int4.js";
import { int8Format } from "./int8.js";
import { nf4Format } from "./nf4.js";
import { packCacheActive, sourceHash, withPackCache } from "./pack-cache.js";
import { makeFormat, type PackedWeight, type WeightFormat } from "./packed.js";
import { q4_0Format } from "./q4-0.js";
import { q8_0Format } from "./q8-0.js";

const FORMATS: readonly WeightFormat[] = [
  int8Format(),
  int8Format({ group: 32 }),
  int4Format({ group: 32 }),
  nf4Format({ block: 64, dq: true }),
  nf4Format({ block: 64, dq: false }),
  q8_0Format,
  q4_0Format,
  bf16Format,
];

const bytesOf = (p: PackedWeight) => [[...p.data], [...p.scales], [...p.extra]];

/** int8 per channel with a counter on encode. */
function countingFormat(): { format: WeightFormat; encodes: () => number } {
  const base = int8Format();
  let n = 0;
  const format = makeFormat({
    name: "COUNTING",
    bitsPerWeight: 8,
    layout: (rows, cols) => ({ dataBytes: rows * cols, scales: rows, extraBytes: 0 }),
    encode(w, p) {
      n++;
      const fresh = base.quantize(tensor(w, [p.rows, p.cols]), "tmp");
      p.data.set(fresh.data);
      p.scales.set(fresh.scales);
      fresh.dispose();
    },
    decodeRows: base.decodeRows,
    gemv: base.gemv,
  });
  return { format, encodes: () => n };
}

describe("withPackCache", () => {
  it.each(FORMATS.map((f) => [f.name, f] as const))(
    "%s: a repeated pack copies the first one's bytes",
    (_, f) => {
      const w = randn([48, 128], new Rng(3));
      const fresh = f.quantize(w);
      const expected = bytesOf(fresh);
      fresh.dispose();
      const ledger = new MemoryLedger();
      withLedger(ledger, () =>
        withPackCache(() => {
          const a = f.quantize(w);
          const b = f.quantize(w);
          expect(bytesOf(a)).toEqual(expected);
          expect(bytesOf(b)).toEqual(expected);
          // Each pack holds its own storage, charged in full.
          expect(b.data.buffer === a.data.buffer && b.data.byteOffset === a.data.byteOffset).toBe(false);
          expect(ledger.live()).toBe(a.bytes + b.bytes);
          expect(a.bytes).toBe(f.bytesFor(48, 128));
          a.dispose();
          b.dispose();
        }),
      );
      expect(ledger.live()).toBe(0);
      w.dispose();
    },
  );

  it("encodes a source once per format and shape, again when it changed, never outside a scope", () => {
    const { format, encodes } = countingFormat();
    const w = randn([16, 64], new Rng(5));
    const packs: PackedWeight[] = [];
    withPackCache(() => {
      expect(packCacheActive()).toBe(true);
      packs.push(format.quantize(w), format.quantize(w));
      expect(encodes()).toBe(1);
      // Nested scopes share the outer cache.
      withPackCache(() => packs.push(format.quantize(w)));
      expect(encodes()).toBe(1);
      // Changed in place: the hash differs, so it is encoded again (and the new bytes differ).
      w.data[7] = 9;
      const changed = format.quantize(w);
      packs.push(changed);
      expect(encodes()).toBe(2);
      expect(bytesOf(changed)).not.toEqual(bytesOf(packs[0]!));
      // Another format of the same source is its own entry.
      packs.push(int8Format({ group: 32 }).quantize(w));
      expect(encodes()).toBe(2);
    });
    expect(packCacheActive()).toBe(false);
    packs.push(format.quantize(w), format.quantize(w));
    expect(encodes()).toBe(4);
    for (const p of packs) p.dispose();
    w.dispose();
  });

  it("keys a view by its offset: two halves of one storage pack to their own bytes", () => {
    const { format, encodes } = countingFormat();
    const both = randn([2, 8, 32], new Rng(9));
    const halves = [0, 1].map((i) => alias(both, [8, 32], i * 8 * 32));
    withPackCache(() => {
      const [a, b] = halves.map((h) => format.quantize(h));
      expect(encodes()).toBe(2);
      const again = format.quantize(halves[1]!);
      expect(encodes()).toBe(2);
      expect(bytesOf(again)).toEqual(bytesOf(b!));
      expect(bytesOf(a!)).not.toEqual(bytesOf(b!));
      for (const p of [a!, b!, again]) p.dispose();
    });
    for (const h of halves) h.dispose();
    both.dispose();
  });

  it("sourceHash changes with any one element", () => {
    const w = new Float32Array(33).map((_, i) => i / 7);
    const h = sourceHash(w);
    for (let i = 0; i < w.length; i++) {
      const c = w.slice();
      c[i] = c[i]! + 1;
      expect(sourceHash(c)).not.toBe(h);
    }
    expect(sourceHash(w.subarray(0, 32))).not.toBe(h);
  });
});
