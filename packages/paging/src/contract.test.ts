import { kvDtype } from "@tradeoffs/kv-cache";
import { kvMemoryContract, samplePlan, strategyContract } from "@tradeoffs/strategy-testkit";
import { describe, expect, it } from "vitest";
import { contiguous } from "./contiguous.js";
import { paged } from "./paged.js";
import { pagingStrategies } from "./registry.js";

strategyContract([contiguous(), paged(), paged({ block: 32 })], pagingStrategies, "kv-memory");
kvMemoryContract(contiguous(), kvDtype().exec);
kvMemoryContract(paged(), kvDtype().exec);
kvMemoryContract(paged({ block: 3 }), kvDtype().exec);

describe("Paged strategy", () => {
  it("reserves whole blocks in the plan, keeping the KV dtype", () => {
    const base = samplePlan();
    const p = paged({ block: 8 }).plan(base);
    expect([1, 8, 9, 16, 17].map((t) => p.kv.reservedTokens(t))).toEqual([8, 8, 16, 16, 24]);
    expect(p.kv.bytesPerElement).toBe(base.kv.bytesPerElement);
    expect(contiguous().plan(base).kv.reservedTokens(17)).toBe(17);
    expect(paged().label).toBe("Paged[block=16]");
  });
  it("rejects block size 0 with a typed error naming the range", () => {
    expect(() => paged({ block: 0 })).toThrow(/block.*1\.\.4096/);
  });
});
