/**
 * Parity with llama.cpp (node-llama-cpp's CPU build) on the same weights: the shipped small model is
 * exported to GGUF and both engines give next-token probabilities at every position of several texts.
 * F32: max |Δp| ≤ 1e-4 and identical greedy top-1. Q8_0/Q4_0: llama.cpp quantises the activations to
 * Q8_0 inside its quantised matmuls while we keep them f32; with that rounding emulated on our side
 * the gap shrinks to `EMULATED_TOL` with identical greedy tokens, and without it the gap stays under a
 * bound derived in the same run. FP16/BF16 files are held to the same derived bound.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bf16ToF32,
  f16ToF32,
  f32ToBF16,
  f32ToF16,
  type LinearWeight,
  scope,
  softmax,
  type Tensor,
  tensor,
} from "@tradeoffs/core-tensor";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasSmallWeights, loadSmallWeights } from "../checkpoint-file.js";
import { parse } from "../registry.js";
import { Transformer } from "../transformer.js";
import { exportGguf } from "./export.js";

/** F32 bound from the issue: both engines compute in f32; only summation order differs. */
const F32_TOL = 1e-4;
/**
 * Q8_0/Q4_0 with llama.cpp's activation rounding emulated on our side (ggml's x86 `quantize_row_q8_0`
 * before every quantised matmul): what is left are elements that sit within f32 noise of a rounding
 * boundary (…+0.5) and round the other way, one quantisation step d = absmax/127 on one element,
 * which later layers amplify. Measured on these texts: 2.1e-3 (Q8_0), 2.0e-3 (Q4_0); bound 2.5× that.
 */
const EMULATED_TOL = 5e-3;
/**
 * Q8_0/Q4_0 with our f32 activations: the whole effect of llama.cpp rounding activations to Q8_0
 * (up to d/2 = absmax/254 per element, ≈0.4 % of each 32-block's absmax). The bound is derived, not
 * chosen: by the triangle inequality |p_ours − p_llama| ≤ |p_ours − p_emulated| + EMULATED_TOL, and
 * the first term is measured on our side in the same test. Measured: 1.8e-2 (Q8_0), 1.5e-2 (Q4_0),
 * with 4 and 2 of 333 greedy tokens differing where the top two are within that gap.
 */
const TEXTS = [
  "The quick brown fox jumps over the lazy dog, and the dog does not seem to mind at all.",
  "It was the best of times, it was the worst of times, it was the age of wisdom.",
  "In 1961 the committee met again; the report (in three parts) was read aloud to everyone.",
  '"Where are you going?" she asked. He said nothing and walked on toward the river.',
];

const dir = mkdtempSync(join(tmpdir(), "llamacpp-parity-"));
let llama: Llama;

/** ggml's x86 `quantize_row_q8_0` applied to each row of x [..., K] and decoded back (d·q). */
function q8RoundTrip(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < x.length; b += 32) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b + j]!));
    const d = f16ToF32(f32ToF16(Math.fround(amax / 127)));
    const id = amax !== 0 ? Math.fround(127 / amax) : 0;
    for (let j = 0; j < 32; j++) {
      const v = Math.fround(x[b + j]! * id);
      const r = Math.round(v);
      const q = Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; // _MM_ROUND_NEAREST: ties to even
      out[b + j] = Math.fround(q * d);
    }
  }
  return out;
}

/** ggml's conversion of f32 activations to the F16 / BF16 a 16-bit weight's dot product takes. */
const f16RoundTrip = (x: Float32Array) => x.map((v) => f16ToF32(f32ToF16(v)));
const bf16RoundTrip = (x: Float32Array) => x.map((v) => bf16ToF32(f32ToBF16(v)));

/** How llama.cpp's CPU matmul for each weight type sees its f32 input (ggml `vec_dot_type`). */
const ACTIVATIONS: Record<string, (x: Float32Array) => Float32Array> = {
  FP32: (x) => x,
  FP16: f16RoundTrip,
  BF16: bf16RoundTrip,
  Q8_0: q8RoundTrip,
  Q4_0: q8RoundTrip,
};

/** Make every linear of `m` see its input the way llama.cpp's matmul for `format` does. */
function emulateActivations(m: Transformer, format: string): void {
  const round = ACTIVATIONS[format]!;
  const patch = (w: LinearWeight) => {
    const apply = w.apply.bind(w);
    (w as { apply: (x: Tensor) => Tensor }).apply = (x: Tensor) => {
      const xq = tensor(round(x.data), x.shape);
      try {
        return apply(xq);
      } finally {
        xq.dispose();
      }
    };
  };
  for (const l of m.layers) {
    for (const w of [l.q, l.k, l.v, l.o]) patch(w);
    for (const w of l.ffn.namedWeights().values()) if ("apply" in w) patch(w);
  }
}

/** Our next-token probabilities [T][V] at every position of `ids`. */
function ours(m: Transformer, ids: number[]): Float32Array[] {
  return scope(() => {
    const p = softmax(m.forward(tensor(ids, [1, ids.length], { dtype: "i32" })));
    const V = p.dim(-1);
    return ids.map((_, t) => p.data.slice(t * V, (t + 1) * V));
  });
}

/** llama.cpp's next-token probabilities [T][V] at every position of `ids` (f32 KV cache, no flash attention). */
async function theirs(model: LlamaModel, ids: number[], V: number): Promise<Float32Array[]> {
  const ctx = await model.createContext({
    contextSize: 256,
    batchSize: 256,
    threads: 1,
    flashAttention: false, // its CPU flash attention rounds Q·K through f16 (|Δp| ≈ 4e-4 here)
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
  });
  try {
    const out = await ctx
      .getSequence()
      .controlledEvaluate(ids.map((t) => [t as Token, { generateNext: { probabilities: true } }]));
    return ids.map((_, t) => {
      const probs = out[t]?.next.probabilities;
      if (!probs) throw new Error(`llama.cpp returned no probabilities at position ${t}`);
      const row = new Float32Array(V);
      for (const [tok, p] of probs) row[tok] = p;
      return row;
    });
  } finally {
    await ctx.dispose();
  }
}

interface Gap {
  maxDp: number;
  top1Mismatch: number;
  positions: number;
}

function gap(a: Float32Array[], b: Float32Array[]): Gap {
  let maxDp = 0;
  let top1Mismatch = 0;
  const argmax = (r: Float32Array) => r.reduce((best, v, i) => (v > r[best]! ? i : best), 0);
  a.forEach((ra, t) => {
    const rb = b[t]!;
    for (let j = 0; j < ra.length; j++) maxDp = Math.max(maxDp, Math.abs(ra[j]! - rb[j]!));
    if (argmax(ra) !== argmax(rb)) top1Mismatch++;
  });
  return { maxDp, top1Mismatch, positions: a.length };
}

/** Merge per-text gaps. */
function add(all: Gap, g: Gap): void {
  all.maxDp = Math.max(all.maxDp, g.maxDp);
  all.top1Mismatch += g.top1Mismatch;
  all.positions += g.positions;
}

/** Gaps over TEXTS: ours vs llama.cpp, ours with Q8_0 activations vs llama.cpp, ours vs ours-emulated. */
async function compare(format: string): Promise<{ plain: Gap; emulated: Gap; self: Gap }> {
  const m = Transformer.create("small", parse(format), { weights: loadSmallWeights() });
  const e = Transformer.create("small", parse(format), { weights: loadSmallWeights() });
  emulateActivations(e, format);
  const path = join(dir, `small-${format}.gguf`);
  exportGguf(m, path);
  const model = await llama.loadModel({ modelPath: path });
  const zero = (): Gap => ({ maxDp: 0, top1Mismatch: 0, positions: 0 });
  const out = { plain: zero(), emulated: zero(), self: zero() };
  try {
    for (const text of TEXTS) {
      const ids = Array.from(new TextEncoder().encode(text));
      const [a, b, c] = [ours(m, ids), ours(e, ids), await theirs(model, ids, m.arch.vocab)];
      add(out.plain, gap(a, c));
      add(out.emulated, gap(b, c));
      add(out.self, gap(a, b));
    }
  } finally {
    await model.dispose();
    m.dispose();
    e.dispose();
  }
  if (process.env.PARITY_LOG) console.log(format, out);
  return out;
}

describe.skipIf(!hasSmallWeights())("llama.cpp parity on the shipped small model", () => {
  beforeAll(async () => {
    llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  });
  afterAll(async () => {
    await llama?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("F32: max |Δp| ≤ 1e-4 and the same greedy token at every position", async () => {
    const { plain } = await compare("FP32");
    expect(plain.positions).toBeGreaterThan(300);
    expect(plain.maxDp).toBeLessThanOrEqual(F32_TOL);
    expect(plain.top1Mismatch).toBe(0);
  });

  for (const format of ["Q8_0", "Q4_0"]) {
    it(`${format}: activation rounding emulated ≤ ${EMULATED_TOL}, same greedy tokens; f32 activations within the derived bound`, async () => {
      const { plain, emulated, self } = await compare(format);
      expect(emulated.maxDp).toBeLessThanOrEqual(EMULATED_TOL);
      expect(emulated.top1Mismatch).toBe(0);
      expect(plain.maxDp).toBeLessThanOrEqual(self.maxDp + EMULATED_TOL);
      // the rounding explains most of the gap: emulating it shrinks the gap at least 3×
      expect(emulated.maxDp * 3).toBeLessThan(plain.maxDp);
      expect(plain.top1Mismatch).toBeLessThanOrEqual(self.top1Mismatch + 2);
    });
  }

  // 16-bit weights: ggml's F16/BF16 dot products take F16/BF16 activations. Measured: BF16 3.7e-3
  // plain, 4.2e-4 emulated (the rounding explains it); FP16 3.4e-4 plain and 3.8e-4 emulated (f16
  // rounding does not explain it: which of its F16 matmul paths round the input is left open).
  for (const format of ["FP16", "BF16"]) {
    it(`${format}: within the derived bound, same greedy tokens`, async () => {
      const { plain, emulated, self } = await compare(format);
      expect(emulated.maxDp).toBeLessThanOrEqual(EMULATED_TOL);
      expect(plain.maxDp).toBeLessThanOrEqual(self.maxDp + EMULATED_TOL);
      expect(plain.top1Mismatch).toBe(0);
    });
  }
});
