/**
 * GGUF interop: property round trips (metadata of every value type, tensors of every supported type),
 * a hand-built file in the published layout, typed `FormatError`s for truncated, corrupted and
 * malformed input (never another exception), header-only reads, and atomic saves.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { bf16ToF32, f16ToF32, f32ToBF16, f32ToF16 } from "../dtype.js";
import { FormatError, ValueError } from "../errors.js";
import { GGUF_MAGIC, ggufToF32, loadGguf, loadGgufHeader, readGguf } from "./gguf.js";
import {
  GGML_TYPES,
  type GgufScalarType,
  type GgufValue,
  ggmlTypeById,
  ggmlTypeByName,
} from "./gguf-types.js";
import { type GgufTensorInput, ggufFromF32, saveGguf, writeGguf } from "./gguf-write.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "gguf-"));
  dirs.push(d);
  return d;
}

const scalarArb: Record<GgufScalarType, fc.Arbitrary<GgufValue>> = {
  u8: fc.integer({ min: 0, max: 255 }).map((value) => ({ type: "u8", value })),
  i8: fc.integer({ min: -128, max: 127 }).map((value) => ({ type: "i8", value })),
  u16: fc.integer({ min: 0, max: 0xffff }).map((value) => ({ type: "u16", value })),
  i16: fc.integer({ min: -0x8000, max: 0x7fff }).map((value) => ({ type: "i16", value })),
  u32: fc.integer({ min: 0, max: 0xffffffff }).map((value) => ({ type: "u32", value })),
  i32: fc.integer().map((value) => ({ type: "i32", value })),
  f32: fc.float({ noNaN: true }).map((value) => ({ type: "f32", value })),
  f64: fc.double({ noNaN: true }).map((value) => ({ type: "f64", value })),
  bool: fc.boolean().map((value) => ({ type: "bool", value })),
  string: fc.string({ unit: "grapheme", maxLength: 20 }).map((value) => ({ type: "string", value })),
  u64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value) => ({ type: "u64", value })),
  i64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ type: "i64", value })),
};
const valueArb: fc.Arbitrary<GgufValue> = fc.oneof(
  ...Object.values(scalarArb),
  fc
    .constantFrom(...(Object.keys(scalarArb) as GgufScalarType[]))
    .chain((t) =>
      fc
        .array(scalarArb[t], { maxLength: 6 })
        .map((items) => ({ type: "array", itemType: t, value: items.map((i) => i.value) }) as GgufValue),
    ),
);
const SUPPORTED = ["F32", "F16", "BF16", "Q8_0", "Q4_0"] as const;
const tensorArb: fc.Arbitrary<GgufTensorInput> = fc
  .record({
    type: fc.constantFrom(...SUPPORTED),
    rows: fc.integer({ min: 1, max: 3 }),
    blocks: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ type, rows, blocks, seed }) => {
    const t = ggmlTypeByName(type);
    const cols = blocks * (t.blockSize === 1 ? 5 : t.blockSize);
    const bytes = ((rows * cols) / t.blockSize) * t.typeSize;
    const data = Uint8Array.from({ length: bytes }, (_, i) => (i * 31 + seed) & 0xff);
    return { name: "", shape: [rows, cols], type, data };
  });
const fileArb = fc.record({
  meta: fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), valueArb), {
    selector: ([k]) => k,
    maxLength: 6,
  }),
  tensors: fc.array(tensorArb, { maxLength: 4 }),
  alignment: fc.constantFrom(8, 32, 64),
});
type FileSpec = typeof fileArb extends fc.Arbitrary<infer T> ? T : never;
function build(f: FileSpec): { meta: Map<string, GgufValue>; tensors: GgufTensorInput[]; bytes: Uint8Array } {
  const meta = new Map(f.meta.filter(([k]) => k !== "general.alignment"));
  meta.set("general.alignment", { type: "u32", value: f.alignment });
  const tensors = f.tensors.map((t, i) => ({ ...t, name: `blk.${i}.w` }));
  return { meta, tensors, bytes: writeGguf(meta, tensors) };
}
function expectFormatErrorOrOk(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
  }
}

describe("GGUF round trip", () => {
  it("metadata of every value type and tensors of every supported type come back unchanged", () => {
    fc.assert(
      fc.property(fileArb, (f) => {
        const { meta, tensors, bytes } = build(f);
        const g = readGguf(bytes);
        expect(g.version).toBe(3);
        expect(g.alignment).toBe(f.alignment);
        expect(g.dataOffset % f.alignment).toBe(0);
        expect([...g.metadata.keys()]).toEqual([...meta.keys()]);
        for (const [k, v] of meta) {
          const got = g.metadata.get(k)!;
          if (v.type === "f32") expect(got.value).toBe(Math.fround(v.value as number));
          else if (v.type === "array" && v.itemType === "f32")
            expect(got.value).toEqual((v.value as number[]).map(Math.fround));
          else expect(got).toEqual(v);
        }
        expect(g.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
        for (const t of tensors) {
          const info = g.tensors.find((x) => x.name === t.name)!;
          expect(info.shape).toEqual(t.shape);
          expect(info.type.name).toBe(t.type);
          expect(info.offset % f.alignment).toBe(0);
          expect(g.data(t.name)).toEqual(t.data);
        }
        expect(
          writeGguf(
            g.metadata,
            g.tensors.map((t) => ({ ...t, data: g.data(t.name) })),
          ),
        ).toEqual(bytes);
      }),
      { numRuns: 150 },
    );
  });

  it("F32/F16/BF16 encode and decode through ggufFromF32/ggufToF32", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, min: -1e4, max: 1e4 }), { minLength: 1, maxLength: 40 }),
        (xs) => {
          const v = Float32Array.from(xs);
          for (const type of ["F32", "F16", "BF16"] as const) {
            const g = readGguf(
              writeGguf({}, [{ name: "x", shape: [v.length], type, data: ggufFromF32(type, v) }]),
            );
            const back = ggufToF32(g.tensors[0]!, g.data("x"));
            const ref = (x: number) =>
              type === "F32" ? x : type === "F16" ? f16ToF32(f32ToF16(x)) : bf16ToF32(f32ToBF16(x));
            expect(Array.from(back)).toEqual(Array.from(v, ref));
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("GGUF published layout", () => {
  it("reads a hand-built v3 file: magic, counts, one u32 KV, one Q8_0 tensor at offset 0", () => {
    const key = new TextEncoder().encode("general.alignment");
    const name = new TextEncoder().encode("w");
    const head: number[] = [];
    const u32 = (v: number) => head.push(v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24);
    const u64 = (v: number) => {
      u32(v);
      u32(0);
    };
    u32(GGUF_MAGIC);
    u32(3);
    u64(1); // tensors
    u64(1); // kv
    u64(key.length);
    head.push(...key);
    u32(4); // u32
    u32(32);
    u64(name.length);
    head.push(...name);
    u32(2); // n_dims
    u64(32); // ne[0]
    u64(2); // ne[1]
    u32(8); // Q8_0
    u64(0);
    const dataOffset = Math.ceil(head.length / 32) * 32;
    const bytes = new Uint8Array(dataOffset + 68);
    bytes.set(head);
    bytes.set([0x00, 0x3c, 1, 0xff], dataOffset); // block 0: d = 1, q = 1, −1
    const g = readGguf(bytes);
    expect(g.dataOffset).toBe(dataOffset);
    expect(g.tensors[0]).toMatchObject({ name: "w", shape: [2, 32], offset: 0, bytes: 68 });
    expect(g.tensors[0]!.type.name).toBe("Q8_0");
    const f = ggufToF32(g.tensors[0]!, g.data("w"));
    expect([f[0], f[1], f[2], f[32]]).toEqual([1, -1, 0, 0]);
  });

  it("the type table: every id is unique, supported types resolve, removed and unknown ids are named", () => {
    expect(new Set(GGML_TYPES.map((t) => t.id)).size).toBe(GGML_TYPES.length);
    expect(ggmlTypeById(12).name).toBe("Q4_K");
    expect(() => ggmlTypeById(4)).toThrow(/Q4_2.*removed/);
    expect(() => ggmlTypeById(99)).toThrow(/unknown ggml type id 99/);
    expect(() => ggmlTypeByName("Q9_9")).toThrow(/known: F32, F16, Q4_0/);
  });

  it("decoding a type the project cannot decode names it and the supported ones", () => {
    const t = ggmlTypeByName("Q4_K");
    const g = readGguf(writeGguf({}, [{ name: "k", shape: [1, 256], type: t, data: new Uint8Array(144) }]));
    expect(() => ggufToF32(g.tensors[0]!, g.data("k"))).toThrow(
      /Q4_K.*supported: F32, F16, BF16, Q8_0, Q4_0/,
    );
  });
});

describe("GGUF hardening", () => {
  it("every truncation of a valid file is a FormatError", () => {
    fc.assert(
      fc.property(fileArb, fc.double({ min: 0, max: 1, noNaN: true }), (f, frac) => {
        const { bytes } = build(f);
        const g = readGguf(bytes);
        // the last byte that matters: the end of the last tensor, or of the header's padding
        const end = Math.max(g.dataOffset, ...g.tensors.map((t) => g.dataOffset + t.offset + t.bytes));
        const cut = Math.floor(frac * (end - 1));
        expect(() => readGguf(bytes.subarray(0, cut))).toThrow(FormatError);
      }),
      { numRuns: 200 },
    );
  });

  it("corrupted bytes give a valid parse or a FormatError, never another exception", () => {
    fc.assert(
      fc.property(
        fileArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (f, edits) => {
          const bytes = build(f).bytes.slice();
          for (const [at, v] of edits) bytes[at % bytes.length] = v;
          expectFormatErrorOrOk(() => {
            const g = readGguf(bytes);
            for (const t of g.tensors) if (t.type.blockSize <= 32) ggufToF32(t, g.data(t.name));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  const one = (shape = [2, 32], type = "Q8_0") => {
    const t = ggmlTypeByName(type);
    return {
      name: "w",
      shape,
      type,
      data: new Uint8Array(((shape[0]! * shape[1]!) / t.blockSize) * t.typeSize),
    };
  };
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

  it("rejects bad magic, version, counts and alignment with messages naming the value", () => {
    const b = writeGguf({ a: { type: "u8", value: 1 } }, [one()]);
    const bad = (edit: (x: DataView) => void, re: RegExp) => {
      const c = b.slice();
      edit(dv(c));
      expect(() => readGguf(c)).toThrow(re);
    };
    bad((x) => x.setUint32(0, 0x12345678, true), /magic 0x12345678/);
    bad((x) => x.setUint32(4, 4, true), /version 4 is not supported; supported: 2, 3/);
    bad((x) => x.setBigUint64(8, 2n ** 40n, true), /claims .* tensors/);
    bad((x) => x.setBigUint64(16, 2n ** 60n, true), /too large/);
    const c = writeGguf({ "general.alignment": { type: "u32", value: 32 } }, [one()]);
    const at = 24 + 8 + "general.alignment".length + 4;
    const d = c.slice();
    dv(d).setUint32(at, 24, true);
    expect(() => readGguf(d)).toThrow(/general.alignment must be a u32 power of two, got u32 24/);
  });

  it("rejects duplicate keys and names, overlapping or misaligned tensors, unknown types, long arrays", () => {
    // duplicate key: write two keys, then rename the second to the first
    const b = writeGguf({ ka: { type: "u8", value: 1 }, kb: { type: "u8", value: 2 } }, []);
    const i = b.lastIndexOf("b".charCodeAt(0));
    b[i] = "a".charCodeAt(0);
    expect(() => readGguf(b)).toThrow(/metadata key 'ka' appears twice/);
    const two = writeGguf({}, [one(), { ...one(), name: "v" }]);
    two[two.indexOf("v".charCodeAt(0), 24)] = "w".charCodeAt(0);
    expect(() => readGguf(two)).toThrow(/tensor 'w' appears twice/);
    // with no metadata, tensor i's info starts at 24 + 41·i: name (8 + 1), n_dims 4, ne 2 × 8, type 4, offset 8
    const ov = writeGguf({}, [one(), { ...one(), name: "v" }]);
    dv(ov).setBigUint64(24 + 41 + 33, 0n, true);
    expect(() => readGguf(ov)).toThrow(/'w' and 'v' overlap/);
    dv(ov).setBigUint64(24 + 41 + 33, 8n, true);
    expect(() => readGguf(ov)).toThrow(/offset 8 is not a multiple of 32/);
    const ty = writeGguf({}, [one()]);
    dv(ty).setUint32(24 + 29, 77, true);
    expect(() => readGguf(ty)).toThrow(/tensor 'w': unknown ggml type id 77/);
    const arr = writeGguf({ a: { type: "array", itemType: "u32", value: [1, 2] } }, []);
    dv(arr).setBigUint64(24 + 8 + 1 + 4 + 4, 1000n, true);
    expect(() => readGguf(arr)).toThrow(/claims 1000 u32 items but only \d+ bytes remain/);
    dv(arr).setBigUint64(24 + 8 + 1 + 4 + 4, 2n ** 24n + 1n, true);
    expect(() => readGguf(arr)).toThrow(/claims 16777217 items; the limit is 16777216/);
    const data = writeGguf({}, [one()]);
    // the 68 data bytes are followed by 28 bytes of padding
    expect(() => readGguf(data.subarray(0, data.length - 29))).toThrow(/run past the \d+-byte data section/);
  });

  it("the writer rejects bad values, names, shapes and sizes before writing", () => {
    expect(() => writeGguf({ k: { type: "u8", value: 256 } }, [])).toThrow(ValueError);
    expect(() => writeGguf({ k: { type: "u64", value: -1 } }, [])).toThrow(/u64 needs an integer/);
    expect(() => writeGguf({ k: { type: "string", value: 3 } }, [])).toThrow(/needs a string/);
    expect(() => writeGguf({}, [one(), one()])).toThrow(/'w' is listed twice/);
    expect(() => writeGguf({}, [{ ...one(), name: "x".repeat(64) }])).toThrow(/1 to 63 bytes/);
    expect(() => writeGguf({}, [one([2, 33])])).toThrow(/row length 33 is not a multiple of Q8_0's 32/);
    expect(() => writeGguf({}, [{ ...one(), data: new Uint8Array(3) }])).toThrow(/needs 68 bytes, got 3/);
    expect(() => writeGguf({}, [{ ...one(), type: "Q3_Z" }])).toThrow(/unknown ggml type 'Q3_Z'/);
    expect(() => ggufFromF32("Q8_0" as "F32", new Float32Array(32))).toThrow(/quantise Q8_0\/Q4_0/);
  });
});

describe("GGUF files", () => {
  it("loadGgufHeader reads only the header, even when it is longer than the first read", () => {
    const dir = tmp();
    const big = Array.from({ length: 40_000 }, (_, i) => `token-${i}-${"x".repeat(20)}`); // ~1.5 MiB
    const meta = { "tokenizer.ggml.tokens": { type: "array", itemType: "string", value: big } } as const;
    const tensors = [{ name: "w", shape: [4, 32], type: "F32", data: new Uint8Array(512) }];
    saveGguf(join(dir, "a.gguf"), meta, tensors);
    const h = loadGgufHeader(join(dir, "a.gguf"));
    expect((h.metadata.get("tokenizer.ggml.tokens")!.value as string[]).length).toBe(40_000);
    expect(h.tensors[0]!.bytes).toBe(512);
    expect(h.fileSize).toBe(statSync(join(dir, "a.gguf")).size);
    expect(loadGguf(join(dir, "a.gguf")).data("w").length).toBe(512);
    writeFileSync(join(dir, "cut.gguf"), readGguf(writeGguf(meta, tensors)).data("w").subarray(0, 0));
    expect(() => loadGgufHeader(join(dir, "cut.gguf"))).toThrow(FormatError);
  });

  it("a failed save leaves neither the file nor a temp file", () => {
    const dir = tmp();
    expect(() =>
      saveGguf(join(dir, "x.gguf"), {}, [{ name: "w", shape: [1], type: "F32", data: new Uint8Array(1) }]),
    ).toThrow(FormatError);
    expect(() => saveGguf(join(dir, "missing", "x.gguf"), {}, [])).toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });
});
