/**
 * Property tests for `readNpy` on hostile bytes: arbitrary, truncated and mutated files and
 * generated header text yield a tensor or a `FormatError`, never a raw RangeError/TypeError, never an
 * allocation larger than the input, and never a leaked ledger byte. Plus a write → read round trip.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DType } from "../dtype.js";
import { FormatError } from "../errors.js";
import { MemoryLedger, withLedger } from "../ledger.js";
import { tensor } from "../tensor.js";
import { readNpy, writeNpy } from "./npy.js";

/**
 * Read `bytes` under a fresh ledger: returns what happened. Throws (failing the property) on any
 * error other than FormatError, on an allocation larger than the input, or on a leak.
 */
function readTyped(bytes: Uint8Array): "ok" | "refused" {
  const L = new MemoryLedger();
  const outcome = withLedger(L, () => {
    try {
      readNpy(bytes).dispose();
      return "ok" as const;
    } catch (e) {
      if (e instanceof FormatError) return "refused" as const;
      throw new Error(`readNpy threw an untyped ${String(e)}`);
    }
  });
  expect(L.peak()).toBeLessThanOrEqual(bytes.length);
  expect(L.live()).toBe(0);
  return outcome;
}

/** A file with header text `h` (newline appended), version `major`.0, and `data` bytes. */
function file(h: string, major: 1 | 2 | 3, data: Uint8Array): Uint8Array {
  const body = new TextEncoder().encode(`${h}\n`);
  const start = major === 1 ? 10 : 12;
  const out = new Uint8Array(start + body.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0], 0);
  if (major === 1) new DataView(out.buffer).setUint16(8, body.length & 0xffff, true);
  else new DataView(out.buffer).setUint32(8, body.length, true);
  out.set(body, start);
  out.set(data, start + body.length);
  return out;
}

const DTYPES: readonly DType[] = ["f32", "f16", "i32", "i8", "u8"];
/** Valid files: a small tensor of any NumPy dtype and shape, as writeNpy writes it. */
const validFile = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
  })
  .map(({ dtype, shape }) =>
    withLedger(new MemoryLedger(), () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const t = tensor(
        Array.from({ length: n }, (_, i) => i % 100),
        shape,
        { dtype },
      );
      return writeNpy(t);
    }),
  );

describe("readNpy on hostile bytes (property)", () => {
  it("arbitrary bytes, with or without the magic", () => {
    const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .tuple(fc.constantFrom(1, 2, 3), fc.uint8Array({ maxLength: 300 }))
        .map(([v, rest]) => Uint8Array.from([...magic, v, 0, ...rest])),
    );
    fc.assert(
      fc.property(bytes, (b) => void readTyped(b)),
      { numRuns: 2000 },
    );
  });

  it("every truncation of a valid file is refused, and the whole file reads", () => {
    fc.assert(
      fc.property(validFile, (f) => {
        expect(readTyped(f)).toBe("ok");
        // Cutting into the header or the data always loses something the header promised.
        for (let n = 0; n < f.length; n++) expect(readTyped(f.subarray(0, n))).toBe("refused");
      }),
      { numRuns: 60 },
    );
  });

  it("valid files with bytes overwritten anywhere", () => {
    const mutated = validFile.chain((f) =>
      fc
        .array(fc.tuple(fc.nat(f.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        })
        .map((edits) => {
          const g = f.slice();
          for (const [i, b] of edits) g[i] = b;
          return g;
        }),
    );
    fc.assert(
      fc.property(mutated, (g) => void readTyped(g)),
      { numRuns: 2000 },
    );
  });

  it("generated header text: Python-literal fragments in any order", () => {
    const fragment = fc.constantFrom(
      "{",
      "}",
      "(",
      ")",
      "[",
      "]",
      ",",
      ":",
      " ",
      "\n",
      "#",
      "'",
      '"',
      "\\",
      "u'",
      "'descr'",
      "'fortran_order'",
      "'shape'",
      "'<f4'",
      "'|u1'",
      "'constructor'",
      "'__proto__'",
      "True",
      "False",
      "None",
      "-",
      "+",
      "0",
      "3",
      "3L",
      "0x1f",
      "1_0",
      "99999999999999999999",
      "1e3",
      "(2,)",
      "()",
    );
    const header = fc.array(fragment, { maxLength: 40 }).map((xs) => xs.join(""));
    const wellFormedish = fc
      .record({
        descr: fc.constantFrom(
          "'<f4'",
          "'<i4'",
          "'|u1'",
          "'>f8'",
          "'<f2'",
          "[('a', '<f4')]",
          "1",
          "'constructor'",
          "'toString'",
        ),
        fortran: fc.constantFrom("False", "True", "0", "None"),
        shape: fc.array(fc.constantFrom("0", "1", "2", "3", "-1", "2L", "x", "1.5", "2**3"), {
          maxLength: 4,
        }),
        extra: fc.constantFrom("", ", 'descr': '<i4'", ", 'x': 1", ", 'shape': ()", ","),
      })
      .map(
        ({ descr, fortran, shape, extra }) =>
          `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""})${extra}}`,
      );
    fc.assert(
      fc.property(
        fc.oneof(header, wellFormedish),
        fc.constantFrom(1 as const, 2 as const, 3 as const),
        fc.uint8Array({ maxLength: 64 }),
        (h, major, data) => void readTyped(file(h, major, data)),
      ),
      { numRuns: 2000 },
    );
  });

  it("a repeated key keeps its last value, as np.load does", () => {
    const entry = fc.oneof(
      fc.constantFrom("<f4", "<i4", "|u1", "<f2").map((d) => ["descr", `'${d}'`, d] as const),
      fc.boolean().map((b) => ["fortran_order", b ? "True" : "False", b] as const),
      fc
        .array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 })
        .map((dims) => ["shape", `(${dims.join(", ")}${dims.length === 1 ? "," : ""})`, dims] as const),
    );
    const DT: Record<string, DType> = { "<f4": "f32", "<i4": "i32", "|u1": "u8", "<f2": "f16" };
    fc.assert(
      fc.property(fc.array(entry, { minLength: 3, maxLength: 9 }), (entries) => {
        const last = new Map<string, unknown>(entries.map(([k, , v]) => [k, v]));
        const h = `{${entries.map(([k, text]) => `'${k}': ${text}`).join(", ")}}`;
        withLedger(new MemoryLedger(), () => {
          let got: unknown;
          try {
            const t = readNpy(file(h, 1, new Uint8Array(4 * 27)));
            got = [t.dtype, t.shape];
          } catch (e) {
            got = e;
          }
          if (last.size < 3) expect((got as Error).message).toMatch(/not a dict with descr/);
          else if (last.get("fortran_order")) expect((got as Error).message).toMatch(/Fortran-order/);
          else expect(got, h).toEqual([DT[last.get("descr") as string], last.get("shape")]);
        });
      }),
      { numRuns: 500 },
    );
  });

  it("write → read round-trips every NumPy dtype and shape", () => {
    fc.assert(
      fc.property(validFile, (f) => {
        withLedger(new MemoryLedger(), () => {
          const t = readNpy(f);
          expect(writeNpy(t)).toEqual(f);
        });
      }),
      { numRuns: 200 },
    );
  });
});
