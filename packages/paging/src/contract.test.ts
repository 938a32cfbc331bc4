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
  it("sets kv.memory = paged and the block size in the plan", () => {
    const p = paged({ block: 8 }).plan(samplePlan());
    expect(p.kv).toMatchObject({ memory: "paged", block: 8 });
    expect(paged().label).toBe("Paged[block=16]");
  });
  it("rejects block size 0 with a typed error naming the range", () => {
    expect(() => paged({ block: 0 })).toThrow(/block.*1\.\.4096/);
  });
});
