/**
 * Q8_0 and Q4_0 bytes against blocks computed by hand from ggml's reference quantisers
 * (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`): fp16 scale little-endian, then the codes.
 */
import { scope, tensor } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { Q4_0_BLOCK_BYTES, q4_0Format } from "./q4-0.js";
import { Q8_0_BLOCK_BYTES, q8_0Format, roundf } from "./q8-0.js";

const u8 = (v: number) => v & 0xff;

describe("Q8_0 block bytes", () => {
  it("block 1: absmax 127 → d = 1 (fp16 0x3C00), codes = roundf(x), halves away from zero", () => {
    scope(() => {
      const x = new Float32Array(32);
      x.set([-127, 2.5, -2.5, 0.5, -0.5, 1.49, 126.6, 3]);
      const p = q8_0Format.quantize(tensor(x, [1, 32]));
      const b = Array.from(p.data);
      expect(b.length).toBe(Q8_0_BLOCK_BYTES);
      expect(b.slice(0, 2)).toEqual([0x00, 0x3c]);
      expect(b.slice(2, 10)).toEqual([u8(-127), 3, u8(-3), 1, u8(-1), 1, 127, 3]);
      expect(b.slice(10)).toEqual(new Array(24).fill(0));
      p.dispose();
    });
  });
  it("rows of several blocks: an all-zero block has d = 0; absmax 63.5 → d = 0.5 (0x3800)", () => {
    scope(() => {
      const x = new Float32Array(2 * 32);
      x[32] = 63.5; // row 0, block 1
      x[33] = 0.25; // 0.25 · 2 = 0.5 → roundf → 1
      x[34] = -0.75; // −1.5 → −2
      const p = q8_0Format.quantize(tensor(x, [1, 64]));
      const b = Array.from(p.data);
      expect(b.length).toBe(2 * Q8_0_BLOCK_BYTES);
      expect(b.slice(0, 34)).toEqual(new Array(34).fill(0));
      expect(b.slice(34, 36)).toEqual([0x00, 0x38]);
      expect(b.slice(36, 39)).toEqual([127, 1, u8(-2)]);
      const back = q8_0Format.dequantize(p).toArray();
      expect(back.slice(32, 35)).toEqual([63.5, 0.5, -1]);
      p.dispose();
    });
  });
  it("roundf rounds halves away from zero", () => {
    expect([roundf(0.5), roundf(-0.5), roundf(1.5), roundf(-2.5), roundf(2.4999)]).toEqual([1, -1, 2, -3, 2]);
  });
});

describe("Q4_0 block bytes", () => {
  it("negative max −8 → d = 1 (0x3C00); code = min(15, trunc(x + 8.5)); byte j = lo: x[j], hi: x[j+16]", () => {
    scope(() => {
      const x = new Float32Array(32);
      x.set([-8, 7, 7.4, 0, -0.5, 0.5, -3.2]);
      x.set([1, -1, 2.6], 16);
      const p = q4_0Format.quantize(tensor(x, [1, 32]));
      const b = Array.from(p.data);
      expect(b.length).toBe(Q4_0_BLOCK_BYTES);
      expect(b.slice(0, 2)).toEqual([0x00, 0x3c]);
      // codes j:      0   15  15  8  8  9  5  8...   codes j+16: 9  7  11  8...
      expect(b.slice(2, 9)).toEqual([
        0 | (9 << 4),
        15 | (7 << 4),
        15 | (11 << 4),
        8 | (8 << 4),
        8 | (8 << 4),
        9 | (8 << 4),
        5 | (8 << 4),
      ]);
      expect(b.slice(9)).toEqual(new Array(9).fill(8 | (8 << 4)));
      p.dispose();
    });
  });
  it("positive max 16 → d = −2 (fp16 0xC000); −16 clips to code 15 and decodes to −14", () => {
    scope(() => {
      const x = new Float32Array(32);
      x[0] = 16;
      x[1] = -16;
      x[17] = 3; // 3 / −2 = −1.5 → trunc(7.0) = 7 → (7 − 8)·(−2) = 2
      const p = q4_0Format.quantize(tensor(x, [1, 32]));
      const b = Array.from(p.data);
      expect(b.slice(0, 2)).toEqual([0x00, 0xc0]);
      expect(b[2]).toBe(0 | (8 << 4));
      expect(b[3]).toBe(15 | (7 << 4));
      const back = q4_0Format.dequantize(p).toArray();
      expect([back[0], back[1], back[17]]).toEqual([16, -14, 2]);
      p.dispose();
    });
  });
});
