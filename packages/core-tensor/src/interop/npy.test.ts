/**
 * `.npy` interop: byte-exact agreement with files NumPy 1.x wrote (golden hex below, made with
 * `np.save` on the arrays named beside them), round trips for every supported dtype, and typed
 * `FormatError`s for malformed input that leak no ledger bytes.
 */
import { describe, expect, it } from "vitest";
import { FormatError } from "../errors.js";
import { MemoryLedger, withLedger } from "../ledger.js";
import { tensor } from "../tensor.js";
import { readNpy, writeNpy } from "./npy.js";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => Number.parseInt(b, 16)));
/** A file with header text `h` (a newline appended), format version `major`.0, then `data`. */
const header = (h: string, major: 1 | 2 | 3 = 1, data: number[] = []) => {
  const body = new TextEncoder().encode(`${h}\n`);
  const start = major === 1 ? 10 : 12;
  const out = new Uint8Array(start + body.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0], 0);
  if (major === 1) new DataView(out.buffer).setUint16(8, body.length, true);
  else new DataView(out.buffer).setUint32(8, body.length, true);
  out.set(body, start);
  out.set(data, start + body.length);
  return out;
};
/** int32 [1, 2] little-endian. */
const I32_1_2 = [1, 0, 0, 0, 2, 0, 0, 0];
const pad = (n: number) => " ".repeat(n);

/** np.save(np.arange(6, dtype='<f4').reshape(2, 3)) */
const NP_F32_2x3 =
  "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000803f0000004000004040000080400000a040";
/** np.save(np.array([1, -2, 3], dtype='<i4')) */
const NP_I32_3 =
  "934e554d5059010076007b276465736372273a20273c6934272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a01000000feffffff03000000";
/** np.save(np.array(5.5, dtype='<f2')) — a 0-d array */
const NP_F16_SCALAR =
  "934e554d5059010076007b276465736372273a20273c6632272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a8045";

describe("npy", () => {
  it("reads NumPy's files and writes the same bytes back", () => {
    withLedger(new MemoryLedger(), () => {
      for (const [h, shape, values] of [
        [NP_F32_2x3, [2, 3], [0, 1, 2, 3, 4, 5]],
        [NP_I32_3, [3], [1, -2, 3]],
        [NP_F16_SCALAR, [], [5.5]],
      ] as const) {
        const t = readNpy(hex(h));
        expect(t.shape).toEqual(shape);
        expect(t.toArray()).toEqual(values);
        expect(Buffer.from(writeNpy(t)).toString("hex")).toBe(h);
      }
    });
  });

  it("round-trips every dtype NumPy has (bf16 is refused with a hint)", () => {
    withLedger(new MemoryLedger(), () => {
      for (const dtype of ["f32", "f16", "i32", "i8", "u8"] as const) {
        const t = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], { dtype });
        const back = readNpy(writeNpy(t), { category: "weights" });
        expect(back.dtype).toBe(dtype);
        expect(back.shape).toEqual([2, 2, 2]);
        expect(back.toArray()).toEqual(t.toArray());
        expect(back.storage.category).toBe("weights");
        expect(writeNpy(t).length % 64).toBe(
          (8 * (dtype === "f32" || dtype === "i32" ? 4 : dtype === "f16" ? 2 : 1)) % 64,
        );
      }
      expect(() => writeNpy(tensor([1], [1], { dtype: "bf16" }))).toThrow(
        /bf16 has no NumPy dtype; convert with toF32/,
      );
    });
  });

  it("throws FormatError for malformed files and leaks nothing", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const good = hex(NP_F32_2x3);
      const bad: [string, Uint8Array, RegExp][] = [
        ["empty", new Uint8Array(0), /magic/],
        ["bad magic", Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58, 1, 0, 0, 0]), /magic/],
        ["truncated data", good.subarray(0, good.length - 3), /data holds 21 bytes.*needs 24/],
        ["header past end", good.subarray(0, 60), /header length 118 runs past the end/],
        ["version", Uint8Array.from([...good.subarray(0, 6), 9, 0, 0, 0]), /unsupported format version 9.0/],
        [
          "minor version",
          Uint8Array.from([...good.subarray(0, 6), 1, 1, ...good.subarray(8)]),
          /version 1.1/,
        ],
        ["not a dict", header(`{'descr': '<f4'}`), /not a dict with descr/],
        ["fortran", header(`{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }`), /Fortran-order/],
        [
          "dtype",
          header(`{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }`),
          /dtype '>f8' is not supported/,
        ],
        [
          "dimension",
          header(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }`),
          /unknown name 'x' at character 54/,
        ],
        [
          "negative dimension",
          header(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }`),
          /bad dimension '-1'/,
        ],
        [
          "huge shape",
          header(`{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }${pad(3)}`),
          /needs 4000000000000/,
        ],
      ];
      for (const [what, bytes, msg] of bad) {
        let err: unknown;
        try {
          readNpy(bytes);
        } catch (e) {
          err = e;
        }
        expect(err, what).toBeInstanceOf(FormatError);
        expect((err as Error).message, what).toMatch(msg);
      }
      expect(L.live()).toBe(0);
      expect(L.allocations).toBe(0);
    });
  });

  it("reads the header as NumPy does: Python literal syntax, last duplicate key wins, exactly three keys", () => {
    // Each accepted header below loads in NumPy 2.4 (`np.load`) as int32 [1, 2]; each rejected one
    // raises ValueError there too (checked by hand).
    withLedger(new MemoryLedger(), () => {
      for (const h of [
        `{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'descr': '<i4', }`,
        `{'descr': '<i4', 'fortran_order': True, 'shape': (2,), 'fortran_order': False}`,
        `{'descr': '<i4', 'fortran_order': False, 'shape': (2L,)}`,
        `{'descr': '<i4', 'fortran_order': False, 'shape': (0x2,)} # a comment`,
        `{"descr": u'<i4', 'fortran_order': False, 'shape': (\n  +2 ,\n)}`,
        `{'descr': '<\x694', 'fortran_order': False, 'shape': (2,)}`,
      ]) {
        const t = readNpy(header(h, 1, I32_1_2));
        expect([t.dtype, t.shape, t.toArray()], h).toEqual(["i32", [2], [1, 2]]);
      }
      const v3 = readNpy(header(`{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}`, 3, I32_1_2));
      expect(v3.toArray()).toEqual([1, 2]);
      // Python 2 longs are a version 1.0/2.0 leniency only.
      expect(() =>
        readNpy(header(`{'descr': '<i4', 'fortran_order': False, 'shape': (2L,)}`, 3, I32_1_2)),
      ).toThrow(/'2L' is not an integer/);
      for (const [h, msg] of [
        [`{'descr': '<i4', 'fortran_order': False, 'shape': (2)}`, /shape must be a tuple.*got 2/],
        [`{'descr': '<i4', 'fortran_order': False, 'shape': [2]}`, /shape must be a tuple.*got list/],
        [`{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'x': 1}`, /no other keys.*'x'/],
        [`{'descr': '<i4', 'fortran_order': 0, 'shape': (2,)}`, /fortran_order must be True or False/],
        [`{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,)}`, /structured dtypes/],
        [`{'descr': 'constructor', 'fortran_order': False, 'shape': (2,)}`, /'constructor' is not supported/],
        [`{'descr': '<i4', 'fortran_order': False, 'shape': (2,)} {}`, /text after the header dict/],
        [`{'descr': '<i4' 'fortran_order': False, 'shape': (2,)}`, /expected ',' or '}'/],
        [`{'descr' '<i4', 'fortran_order': False, 'shape': (2,)}`, /expected ':'/],
        [`{'descr': '<i4', 'fortran_order': False, 'shape': (2,,)}`, /unexpected ','/],
        [`{'descr': '<i4', 'fortran_order': False, 'shape': (02,)}`, /'02' is not an integer/],
        [`{'descr': '<i4', 'fortran_order': False, 'shape': (2,)`, /unexpected end|expected ','/],
        [`{'descr': '<i4`, /unterminated string/],
        [`${"(".repeat(5000)}`, /nesting deeper than 32/],
      ] as const) {
        expect(() => readNpy(header(h, 2, I32_1_2)), h).toThrow(msg);
      }
    });
  });

  it("parses in linear time and caps the header at NumPy's 10000 bytes", () => {
    // Before: regexes rescanned the header from every "'shape': (", so a 200 KB header took ~10 s.
    const crafted = (n: number, major: 1 | 2) => {
      const unit = "'shape': (";
      return header(`{'descr': '<f4', ${unit.repeat(Math.floor(n / unit.length))}`, major);
    };
    withLedger(new MemoryLedger(), () => {
      let t0 = performance.now();
      expect(() => readNpy(crafted(800_000, 2))).toThrow(/header length 800\d+ exceeds the 10000-byte limit/);
      expect(() => readNpy(crafted(65_000, 1))).toThrow(/exceeds the 10000-byte limit/);
      expect(performance.now() - t0).toBeLessThan(500);
      // The worst shapes that fit under the cap still parse (and fail) at once.
      for (const h of [
        crafted(9_900, 2),
        header(`{'descr': '${"x".repeat(9_900)}`, 2),
        header(`${"[".repeat(30)}${"1,".repeat(4_900)}`, 2),
        header(`{'descr': '<f4', 'fortran_order': False, 'shape': (${"9".repeat(9_900)},)}`, 2),
      ]) {
        t0 = performance.now();
        expect(() => readNpy(h)).toThrow(FormatError);
        expect(performance.now() - t0).toBeLessThan(200);
      }
      // A valid header padded to just under the cap (NumPy pads with spaces) reads fine.
      const padded = header(
        `{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }${pad(9_900)}`,
        2,
        I32_1_2,
      );
      expect(readNpy(padded).toArray()).toEqual([1, 2]);
    });
  });
});
