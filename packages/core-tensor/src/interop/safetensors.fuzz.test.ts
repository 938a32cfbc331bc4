/**
 * Property tests for safetensors on hostile input: arbitrary, truncated and mutated files and
 * generated JSON headers yield tensors or a `FormatError` (never a raw RangeError/TypeError, an
 * allocation larger than the input, or a leak); and the writer refuses exactly what the reader would.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TENSOR_DTYPES } from "../dtype.js";
import { FormatError } from "../errors.js";
import { MemoryLedger, withLedger } from "../ledger.js";
import { type Tensor, tensor } from "../tensor.js";
import { readSafetensors, writeSafetensors } from "./safetensors.js";

/** Read under a fresh ledger; fail the property on an untyped error, an oversized allocation or a leak. */
function readTyped(bytes: Uint8Array): "ok" | "refused" {
  const L = new MemoryLedger();
  const outcome = withLedger(L, () => {
    try {
      for (const t of readSafetensors(bytes).tensors.values()) t.dispose();
      return "ok" as const;
    } catch (e) {
      if (e instanceof FormatError) return "refused" as const;
      throw new Error(`readSafetensors threw an untyped ${String(e)}`);
    }
  });
  expect(L.peak()).toBeLessThanOrEqual(bytes.length);
  expect(L.live()).toBe(0);
  return outcome;
}

/** A file from raw header text and a data section. */
function build(json: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const nameArb = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom("__proto__", "constructor", "toString", "", "__metadata__", "a.b"),
);
/** Valid files: a few small tensors of any dtype, with string metadata. */
const validFile = fc
  .record({
    tensors: fc.uniqueArray(
      fc.record({
        name: nameArb.filter((n) => n !== "__metadata__"),
        dtype: fc.constantFrom(...TENSOR_DTYPES),
        shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
      }),
      { selector: (t) => t.name, maxLength: 4 },
    ),
    metadata: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
  })
  .map(({ tensors, metadata }) =>
    withLedger(new MemoryLedger(), () => {
      const map = new Map<string, Tensor>();
      for (const { name, dtype, shape } of tensors) {
        const n = shape.reduce((a, b) => a * b, 1);
        map.set(
          name,
          tensor(
            Array.from({ length: n }, (_, i) => i % 7),
            shape,
            { dtype },
          ),
        );
      }
      return writeSafetensors(map, metadata);
    }),
  );

describe("readSafetensors on hostile bytes (property)", () => {
  it("arbitrary bytes, and arbitrary bytes behind a plausible header length", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((rest) => {
        const out = new Uint8Array(8 + rest.length);
        new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, rest.length - 4)), true);
        out.set(rest, 8);
        return out;
      }),
    );
    fc.assert(
      fc.property(bytes, (b) => void readTyped(b)),
      { numRuns: 2000 },
    );
  });

  it("truncations and byte overwrites of valid files", () => {
    const mutated = validFile.chain((f) =>
      fc.tuple(
        fc.constant(f),
        fc.nat(f.length),
        fc.array(fc.tuple(fc.nat(f.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      ),
    );
    fc.assert(
      fc.property(mutated, ([f, cut, edits]) => {
        expect(readTyped(f)).toBe("ok");
        readTyped(f.subarray(0, cut));
        const g = f.slice();
        for (const [i, b] of edits) g[i] = b;
        readTyped(g);
      }),
      { numRuns: 500 },
    );
  });

  it("generated JSON headers with arbitrary values in every field", () => {
    const field = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom("F32", "BF16", "I8", "constructor", "toString", "__proto__"),
      fc.array(fc.oneof(fc.nat(40), fc.double(), fc.constant(-1), fc.constant(2 ** 60)), { maxLength: 4 }),
    );
    const entry = fc.oneof(
      fc.record({ dtype: field, shape: field, data_offsets: field }, { requiredKeys: [] }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const header = fc.dictionary(nameArb, entry, { maxKeys: 4 }).map((h) => JSON.stringify(h));
    fc.assert(
      fc.property(
        fc.oneof(
          header,
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        fc.uint8Array({ maxLength: 48 }),
        (h, data) => void readTyped(build(h, data)),
      ),
      { numRuns: 2000 },
    );
  });
});

describe("safetensors writer and reader agree (property)", () => {
  it("the writer either refuses with FormatError or writes a file that reads back the same", () => {
    const metadataArb = fc.oneof(
      fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), nameArb), fc.string({ maxLength: 6 })),
      fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string(), fc.anything({ maxDepth: 1 }))),
      fc.anything({ maxDepth: 1 }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { maxLength: 4 }), metadataArb, (names, metadata) => {
        withLedger(new MemoryLedger(), () => {
          const tensors = new Map(names.map((n, i) => [n, tensor([i, i + 1])] as const));
          let bytes: Uint8Array;
          try {
            bytes = writeSafetensors(tensors, metadata as Record<string, string>);
          } catch (e) {
            expect(e, String(e)).toBeInstanceOf(FormatError);
            return;
          }
          const back = readSafetensors(bytes);
          expect([...back.tensors.keys()].sort()).toEqual([...names].sort());
          for (const [n, t] of tensors) expect(back.tensors.get(n)!.toArray()).toEqual(t.toArray());
          expect(back.metadata).toEqual({ ...(metadata as object) });
        });
      }),
      { numRuns: 1000 },
    );
  });
});
