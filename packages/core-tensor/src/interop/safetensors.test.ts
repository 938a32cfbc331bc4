/**
 * safetensors interop: round trips for every dtype with metadata, a hand-built file in the format's
 * published layout, typed `FormatError`s for malformed input (leaking nothing), and atomic saves.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TENSOR_DTYPES } from "../dtype.js";
import { DisposedError, FormatError } from "../errors.js";
import { MemoryLedger, withLedger } from "../ledger.js";
import { type Tensor, tensor } from "../tensor.js";
import { loadSafetensors, readSafetensors, saveSafetensors, writeSafetensors } from "./safetensors.js";

/** A file from a header object and a data section. */
function build(header: unknown, data: Uint8Array | number = 0, rawHeader?: string): Uint8Array {
  const json = new TextEncoder().encode(rawHeader ?? JSON.stringify(header));
  const d = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + d.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(d, 8 + json.length);
  return out;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("safetensors", () => {
  it("round-trips every dtype, names and metadata", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const ts: Record<string, Tensor> = {};
      for (const d of TENSOR_DTYPES)
        ts[`t.${d}`] = tensor([1, -2, 3, 4, 5, 6], [3, 2], { dtype: d === "u8" ? "u8" : d });
      ts["t.u8"] = tensor([1, 2, 3, 4, 5, 250], [3, 2], { dtype: "u8" });
      ts.empty = tensor([], [0, 4]);
      ts.scalar = tensor([7], []);
      const bytes = writeSafetensors(ts, { format: "pt", note: "hi" });
      const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect((8 + headerLen) % 8).toBe(0); // data section 8-byte aligned
      const f = readSafetensors(bytes, { category: "weights" });
      expect(f.metadata).toEqual({ format: "pt", note: "hi" });
      expect([...f.tensors.keys()].sort()).toEqual(Object.keys(ts).sort());
      for (const [name, t] of Object.entries(ts)) {
        const b = f.tensors.get(name)!;
        expect(b.dtype, name).toBe(t.dtype);
        expect(b.shape, name).toEqual(t.shape);
        expect(b.toArray(), name).toEqual(t.toArray());
        expect(b.name).toBe(name);
        expect(b.storage.category).toBe("weights");
      }
    });
  });

  it("reads a hand-built file in the published layout", () => {
    withLedger(new MemoryLedger(), () => {
      const data = new Uint8Array(12);
      new DataView(data.buffer).setFloat32(0, 1.5, true);
      new DataView(data.buffer).setFloat32(4, -2, true);
      new DataView(data.buffer).setUint16(8, 0x3c00, true); // f16 1.0
      new DataView(data.buffer).setUint16(10, 0x3f80, true); // bf16 1.0
      const f = readSafetensors(
        build(
          {
            a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
            h: { dtype: "F16", shape: [1], data_offsets: [8, 10] },
            b: { dtype: "BF16", shape: [1, 1], data_offsets: [10, 12] },
          },
          data,
        ),
      );
      expect(f.tensors.get("a")!.toArray()).toEqual([1.5, -2]);
      expect(f.tensors.get("h")!.toArray()).toEqual([1]);
      expect(f.tensors.get("b")!.toArray()).toEqual([1]);
      expect(f.metadata).toEqual({});
    });
  });

  it("throws FormatError for malformed files and leaks nothing", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const ok = { dtype: "F32", shape: [2], data_offsets: [0, 8] };
      const cases: [string, Uint8Array, RegExp][] = [
        ["truncated", new Uint8Array(5), /shorter than the 8-byte header length/],
        ["header past end", build({ a: ok }, 8).subarray(0, 20), /header length \d+ exceeds the file/],
        ["bad JSON", build(null, 8, "{not json"), /not valid UTF-8 JSON/],
        ["bad UTF-8", build(null, 0, "\u0000").map((b, i) => (i === 8 ? 0xff : b)), /not valid UTF-8 JSON/],
        ["not an object", build([1, 2]), /must be a JSON object/],
        [
          "unknown dtype",
          build({ a: { ...ok, dtype: "F64" } }, 16),
          /dtype "F64" is not one of F32, F16, BF16/,
        ],
        ["bad shape", build({ a: { ...ok, shape: [-1] } }, 8), /shape \[-1\] is not a list/],
        ["bad offsets", build({ a: { ...ok, data_offsets: [8, 0] } }, 8), /begin ≤ end/],
        [
          "offsets past end",
          build({ a: { ...ok, data_offsets: [0, 16] }, b: ok }, 8),
          /run past the 8-byte data section/,
        ],
        ["wrong size", build({ a: { ...ok, shape: [3] } }, 8), /8 bytes for shape \[3\] F32, expected 12/],
        [
          "overlapping",
          build({ a: ok, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8),
          /tensors 'a' and 'b' overlap/,
        ],
        [
          "bad metadata",
          build({ __metadata__: { n: 1 }, a: ok }, 8),
          /__metadata__ must map strings to strings/,
        ],
        ["missing fields", build({ a: null }, 8), /dtype undefined/],
        [
          "missing shape",
          build({ a: { dtype: "F32", data_offsets: [0, 8] } }, 8),
          /shape undefined is not a list/,
        ],
        ["missing offsets", build({ a: { dtype: "F32", shape: [2] } }, 8), /data_offsets undefined must be/],
        ["huge dimension", build({ a: { ...ok, shape: [0, 2 ** 60] } }, 8), /below 2\^53/],
      ];
      for (const [what, bytes, msg] of cases) {
        let err: unknown;
        try {
          readSafetensors(bytes);
        } catch (e) {
          err = e;
        }
        expect(err, what).toBeInstanceOf(FormatError);
        expect((err as Error).message, what).toMatch(msg);
        expect(L.live(), what).toBe(0);
      }
    });
  });

  it("writer and reader agree: the writer refuses up front what the reader would refuse", () => {
    const L = new MemoryLedger();
    withLedger(L, () => {
      const a = tensor([1, 2]);
      const ok = { dtype: "F32", shape: [2], data_offsets: [0, 8] };
      const cases: [string, unknown, RegExp][] = [
        ["number value", { n: 1 }, /__metadata__ must map strings to strings, but 'n' is a number/],
        ["null value", { n: null }, /but 'n' is null/],
        ["nested object", { n: { deep: "x" } }, /but 'n' is an object/],
        ["an array", ["x"], /__metadata__ must map strings to strings, got an array/],
        ["null", null, /__metadata__ must map strings to strings, got null/],
      ];
      for (const [what, metadata, msg] of cases) {
        let fromWriter: unknown;
        let fromReader: unknown;
        try {
          writeSafetensors({ a }, metadata as Record<string, string>);
        } catch (e) {
          fromWriter = e;
        }
        try {
          readSafetensors(build({ __metadata__: metadata, a: ok }, 8));
        } catch (e) {
          fromReader = e;
        }
        expect(fromWriter, what).toBeInstanceOf(FormatError);
        expect(fromReader, what).toBeInstanceOf(FormatError);
        expect((fromWriter as Error).message, what).toMatch(msg);
        expect((fromWriter as Error).message, what).toBe((fromReader as Error).message);
      }
      // The reserved key cannot name a tensor: the reader would take it for metadata.
      expect(() => writeSafetensors({ __metadata__: a })).toThrow(/cannot be named '__metadata__'/);
      expect(() => readSafetensors(build({ __metadata__: ok }, 8))).toThrow(
        /__metadata__ must map strings to strings, but 'shape' is an array/,
      );
      // An empty tensor shares its offset with the next one; JSON puts integer-like names first, so
      // the empty one is not always listed first (found by the property suite).
      const pair = { "0": tensor([5]), "": tensor([], [0]) };
      const shared = readSafetensors(writeSafetensors(pair));
      expect(shared.tensors.get("0")!.toArray()).toEqual([5]);
      expect(shared.tensors.get("")!.shape).toEqual([0]);
      for (const t of [...shared.tensors.values(), ...Object.values(pair)]) t.dispose();
      // Names that are Object.prototype members round-trip as ordinary tensors.
      const odd = new Map([
        ["__proto__", a],
        ["constructor", tensor([3])],
        ["", tensor([4])],
      ]);
      const back = readSafetensors(writeSafetensors(odd, { toString: "x", __proto__x: "y" }));
      expect([...back.tensors.keys()].sort()).toEqual(["", "__proto__", "constructor"]);
      expect(back.tensors.get("__proto__")!.toArray()).toEqual([1, 2]);
      expect(back.metadata).toEqual({ toString: "x", __proto__x: "y" });
      // A dtype named like an Object.prototype member is an unknown dtype, not a crash.
      expect(() => readSafetensors(build({ a: { ...ok, dtype: "constructor" } }, 8))).toThrow(
        /dtype "constructor" is not one of/,
      );
      for (const t of back.tensors.values()) t.dispose();
      for (const t of odd.values()) t.dispose();
      expect(L.live()).toBe(0);
    });
  });

  it("saves atomically: no temp files left, existing file untouched when the write fails", () => {
    const dir = mkdtempSync(join(tmpdir(), "st-test-"));
    dirs.push(dir);
    withLedger(new MemoryLedger(), () => {
      const path = join(dir, "model.safetensors");
      const a = tensor([1, 2, 3]);
      saveSafetensors(path, { a }, { v: "1" });
      expect(readdirSync(dir)).toEqual(["model.safetensors"]);
      const f = loadSafetensors(path);
      expect(f.tensors.get("a")!.toArray()).toEqual([1, 2, 3]);
      const before = readFileSync(path);
      // Serialising a disposed tensor fails before anything is written.
      const gone = tensor([1]);
      gone.dispose();
      expect(() => saveSafetensors(path, { a, gone })).toThrow(DisposedError);
      // A missing directory fails at the write; nothing is created.
      expect(() => saveSafetensors(join(dir, "missing", "x.safetensors"), { a })).toThrow(/ENOENT/);
      // A rename onto a directory fails after the temp file was written: the temp file is removed.
      const sub = join(dir, "taken");
      mkdirSync(sub);
      writeFileSync(join(sub, "keep"), "x");
      expect(() => saveSafetensors(sub, { a })).toThrow();
      expect(readFileSync(path)).toEqual(before);
      expect(readdirSync(dir).sort()).toEqual(["model.safetensors", "taken"]);
      expect(existsSync(join(dir, "missing"))).toBe(false);
      expect(readdirSync(sub)).toEqual(["keep"]);
    });
  });
});
