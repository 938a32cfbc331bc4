import { ConfigError, getLedger, parseConfig } from "@tradeoffs/core-tensor";
import { expectNoLeak, samplePlan } from "@tradeoffs/strategy-testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KV_DTYPE_NAMES, KV_DTYPES, kvBytesPerToken, kvDtype } from "./kv-dtype.js";
import { kvCacheStrategies } from "./registry.js";

const registry = kvCacheStrategies;

describe("KV[dtype] grammar", () => {
  it("parses the positional and the keyed form to the same canonical label", () => {
    for (const d of KV_DTYPE_NAMES) {
      expect(parseConfig(`KV[${d}]`, registry).label).toBe(`KV[dtype=${d}]`);
      expect(parseConfig(`KV[dtype=${d.toUpperCase()}]`, registry).label).toBe(`KV[dtype=${d}]`);
    }
    expect(parseConfig("KV", registry).label).toBe("KV[dtype=fp32]");
    expect(kvDtype({ dtype: "int8" }).label).toBe("KV[dtype=int8]");
  });

  it("rejects an unknown dtype with a ConfigError listing the valid ones", () => {
    expect(() => kvDtype({ dtype: "bf16" })).toThrow(ConfigError);
    expect(() => kvDtype({ dtype: "bf16" })).toThrow(/fp32, fp16, int8/);
    expect(() => parseConfig("KV[int4]", registry)).toThrow(/fp32, fp16, int8/);
  });
});

describe("KV[dtype] plan and exec", () => {
  it("sets kv.{dtype, bytesPerElement, scaleBytesPerVector} from the same row the exec uses", () => {
    const p = samplePlan();
    for (const d of KV_DTYPE_NAMES) {
      const s = kvDtype({ dtype: d });
      const q = s.plan(p);
      expect(q.kv).toEqual({
        ...p.kv,
        dtype: d,
        bytesPerElement: s.exec.bytesPerElement,
        scaleBytesPerVector: s.exec.scaleBytesPerVector,
      });
      expect(q.arch).toBe(p.arch);
    }
    expect(KV_DTYPES.int8).toMatchObject({ bytesPerElement: 1, scaleBytesPerVector: 4 });
    expect(KV_DTYPES.fp16).toMatchObject({ bytesPerElement: 2, scaleBytesPerVector: 0 });
  });

  it("ledger bytes per token equal 2·layers·kvHeads·(headDim·bytes + scale bytes) (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KV_DTYPE_NAMES),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 16 }),
        (d, layers, kvHeads, headDim, tokens) => {
          expectNoLeak(() => {
            const exec = kvDtype({ dtype: d }).exec;
            const before = getLedger().live("kv");
            const stores = [];
            for (let l = 0; l < 2 * layers; l++) stores.push(exec.allocate(kvHeads * tokens, headDim, "kv"));
            expect(getLedger().live("kv") - before).toBe(
              tokens * kvBytesPerToken({ layers, kvHeads, headDim }, exec),
            );
            for (const s of stores) s.dispose();
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
