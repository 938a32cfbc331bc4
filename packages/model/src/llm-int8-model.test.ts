/**
 * LLMInt8 inside the model: it builds and runs as a weights strategy, threshold 0 reproduces INT8's
 * weight-only product, every linear layer records its outlier statistics, and the estimator prices
 * its weights exactly as INT8's.
 */
import { DEQUANT_TILE_ELEMENTS, MemoryLedger, noGrad, Rng, tensor, withLedger } from "@tradeoffs/core-tensor";
import { LlmInt8Linear, TILE_ELEMENTS } from "@tradeoffs/quant";
import { describe, expect, it } from "vitest";
import { estimate } from "./estimator.js";
import { parse } from "./registry.js";
import { Transformer } from "./transformer.js";

/** threshold 0 and INT8 multiply the same decoded weights by f32 x, in different orders (f32 rounding). */
const SAME_PRODUCT_TOL = 1e-4;

function run(config: string, inspect?: (m: Transformer) => void): Float32Array {
  return withLedger(new MemoryLedger(), () => {
    const rng = new Rng(5);
    const ids = tensor(
      Array.from({ length: 2 * 8 }, () => rng.int(64)),
      [2, 8],
      { dtype: "i32" },
    );
    const m = Transformer.create("tiny", parse(config), { seed: 7 });
    const l = noGrad(() => m.forward(ids));
    const out = l.data.slice();
    inspect?.(m);
    l.dispose();
    ids.dispose();
    m.dispose();
    return out;
  });
}

describe("LLMInt8 in the model", () => {
  it("threshold=0 gives INT8's logits; the default records outlier statistics on every linear", () => {
    const int8 = run("INT8");
    const zero = run("LLMInt8[threshold=0]");
    let diff = 0;
    for (let i = 0; i < int8.length; i++) diff = Math.max(diff, Math.abs(int8[i]! - zero[i]!));
    expect(diff).toBeLessThan(SAME_PRODUCT_TOL);
    let layers = 0;
    const dflt = run("LLMInt8", (m) => {
      for (const l of m.layers) {
        for (const w of [l.q, l.k, l.v, l.o, ...l.ffn.namedWeights().values()]) {
          expect(w).toBeInstanceOf(LlmInt8Linear);
          expect((w as LlmInt8Linear).stats?.rows).toBe(16);
          layers++;
        }
      }
    });
    expect(layers).toBeGreaterThan(0);
    expect(dflt.every(Number.isFinite)).toBe(true);
  });

  it("the estimator prices LLMInt8's weights as INT8's and names the outlier workspace", () => {
    const w = { kind: "infer" as const, batch: 1, seq: 512, generate: 0 };
    const a = estimate("llama2-7b", parse("LLMInt8"), w);
    const b = estimate("llama2-7b", parse("INT8"), w);
    expect(a.bytes.weights).toBe(b.bytes.weights);
    // LLMInt8: the outlier columns' workspace; INT8: one decoded tile (the larger of JS's and WASM's)
    const tile = Math.max(TILE_ELEMENTS, DEQUANT_TILE_ELEMENTS);
    expect(a.bytes.tmp - b.bytes.tmp).toBe(11008 * 6 * 4 - tile * 4);
    expect(a.notes.some((n) => n.includes("outlier path"))).toBe(true);
  });
});
