/**
 * GGUF export/import of a Transformer without llama.cpp: export → import gives bit-identical logits
 * for every format GGUF holds, the header alone gives the architecture and real bytes, the Q/K
 * permutation is a permutation, and models or formats GGUF cannot hold get errors listing why.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGguf, scope, tensor, ValueError, writeGguf } from "@tradeoffs/core-tensor";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { hasSmallWeights, loadSmallWeights } from "../checkpoint-file.js";
import { getPreset } from "../presets.js";
import { parse } from "../registry.js";
import { Transformer } from "../transformer.js";
import { byteToUnicode } from "./byte-vocab.js";
import { exportGguf, ggufBytes, ggufContents } from "./export.js";
import { archFromGguf, ggufModelInfo, loadGgufModel } from "./import.js";
import { permuteRopeRows } from "./llama-layout.js";

const dir = mkdtempSync(join(tmpdir(), "gguf-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logits(m: Transformer, ids: number[]): Float32Array {
  return scope(() => m.forward(tensor(ids, [1, ids.length], { dtype: "i32" })).data.slice());
}

describe("GGUF export → import", () => {
  const ids = [1, 5, 9, 33, 2, 60, 7, 7, 12, 40];
  for (const fmt of ["FP32", "FP16", "BF16", "Q8_0", "Q4_0", "GQA[kvHeads=2]+Q4_0"]) {
    it(`tiny ${fmt}: bit-identical logits, same packed bytes, header-only info`, () => {
      const a = Transformer.create("tiny", parse(fmt), { seed: 3 });
      const path = join(dir, `tiny-${fmt}.gguf`);
      const r = exportGguf(a, path);
      expect(r.tensors).toBe(2 + 2 * 9 + 1);
      const b = loadGgufModel(path, fmt.includes("GQA") ? { configuration: parse(fmt) } : {});
      expect(b.layers[0]!.q.format).toBe(a.layers[0]!.q.format);
      expect(logits(b, ids)).toEqual(logits(a, ids));
      expect(ggufContents(b).tensors).toEqual(ggufContents(a).tensors); // same bytes, names, shapes
      const info = ggufModelInfo(path);
      const { name: _a, ...want } = a.arch;
      const { name: _b, ...got } = info.arch;
      expect(got).toEqual(want);
      expect(info.fileSize).toBe(r.bytes);
      expect(info.format).toBe(a.layers[0]!.q.format);
      a.dispose();
      b.dispose();
    });
  }

  it.skipIf(!hasSmallWeights())("the shipped small model round-trips bit-identically in Q4_0", () => {
    const a = Transformer.create("small", parse("Q4_0"), { weights: loadSmallWeights() });
    const path = join(dir, "small-q4_0.gguf");
    exportGguf(a, path);
    const b = loadGgufModel(path);
    const text = Array.from(new TextEncoder().encode("Round trips keep every bit."));
    expect(logits(b, text)).toEqual(logits(a, text));
    const info = ggufModelInfo(path);
    expect(info.types.Q4_0!.tensors).toBe(4 * 7);
    expect(info.types.F32!.tensors).toBe(2 + 4 * 2 + 1);
    a.dispose();
    b.dispose();
  });
});

describe("llama layout", () => {
  it("the Q/K row permutation is a permutation and its inverse undoes it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5 }),
        (h, half, rb) => {
          const D = 2 * half;
          const data = Uint8Array.from({ length: h * D * rb }, (_, i) => i % 251);
          const there = permuteRopeRows(data, h, D, rb, true);
          expect([...there].sort((x, y) => x - y)).toEqual([...data].sort((x, y) => x - y));
          expect(permuteRopeRows(there, h, D, rb, false)).toEqual(data);
          // llama row 2j + 1 of head 0 is our row D/2 + j
          expect(there.subarray(rb, 2 * rb)).toEqual(data.subarray(half * rb, (half + 1) * rb));
        },
      ),
    );
  });

  it("the byte vocabulary is 256 distinct printable stand-ins", () => {
    const t = byteToUnicode();
    expect(new Set(t).size).toBe(256);
    expect(t[65]).toBe("A");
    expect(t[32]).toBe("Ġ"); // GPT-2's space
  });
});

describe("GGUF errors", () => {
  it("a weight format GGUF cannot hold is named with the ones it can", () => {
    const m = Transformer.create("tiny", parse("INT8"), { seed: 1 });
    expect(() => ggufBytes(m)).toThrow(
      /weights INT8.*cannot be stored in GGUF; GGUF holds FP32, FP16, BF16, Q8_0, Q4_0/,
    );
    m.dispose();
  });

  it("MoE, adapters and windows are listed together", () => {
    const m = Transformer.create("tiny", parse("MoE+LoRA"), { seed: 1 });
    let err: unknown;
    try {
      ggufBytes(m);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValueError);
    expect((err as ValueError).message).toMatch(/adapters LoRA.*; ffn MoE/);
    m.dispose();
  });

  it("other architectures and missing tensors are rejected by name", () => {
    const m = Transformer.create("tiny", parse("FP32"), { seed: 1 });
    const g = readGguf(ggufBytes(m));
    const meta = new Map(g.metadata);
    meta.set("general.architecture", { type: "string", value: "gpt2" });
    expect(() => archFromGguf(readGguf(writeGguf(meta, [])))).toThrow(
      /architecture 'gpt2' is not supported; supported: llama/,
    );
    const path = join(dir, "missing.gguf");
    const tensors = g.tensors
      .filter((t) => t.name !== "blk.1.ffn_up.weight")
      .map((t) => ({ ...t, data: g.data(t.name) }));
    writeFileSync(path, writeGguf(g.metadata, tensors));
    expect(() => loadGgufModel(path)).toThrow(/missing tensor 'blk.1.ffn_up.weight'/);
    expect(getPreset("tiny").arch.layers).toBe(2);
    m.dispose();
  });
});
