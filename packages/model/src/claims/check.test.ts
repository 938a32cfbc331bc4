import { describe, expect, it } from "vitest";
import { checkClaims } from "./check.js";
import { inRange, near, verdictOf } from "./verdict.js";

describe("claims check", () => {
  const claims = checkClaims({ measure: false });

  it("returns the 23 claims in order; unverifiable: the measured ones without a measurement and the unpublished systems", () => {
    expect(claims.map((c) => c.id)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect(claims.filter((c) => c.verdict === "unverifiable").map((c) => c.id)).toEqual([
      2, 7, 11, 15, 16, 20, 23,
    ]);
  });

  it("computes verdicts from the estimator's numbers", () => {
    const byId = new Map(claims.map((c) => [c.id, c]));
    // Llama-2-70B has 8 KV heads: 10.7 GB at 32K, far from the claimed 140 GB (MHA would give 85.9 GB).
    expect(byId.get(4)).toMatchObject({ verdict: "wrong" });
    expect(byId.get(4)?.value).toMatch(/^10\.7 GB .* 85\.9 GB/);
    // MQA's factor is heads / kvHeads: 32× on Llama-2-7B, 64× on 70B (outside 8–32).
    expect(byId.get(5)?.value).toMatch(/MQA 32× on Llama-2-7B, 64× on Llama-2-70B/);
    expect(byId.get(5)?.verdict).toBe("misleading");
    expect(byId.get(9)?.value).toContain("12.88B of 46.70B");
  });

  it("reads agreement as within 20% or inside the range", () => {
    expect(near(119, 100)).toBe(true);
    expect(near(121, 100)).toBe(false);
    expect(inRange(2.5, 2, 3, 0)).toBe(true);
    expect(inRange(3.1, 2, 3, 0)).toBe(false);
    expect(verdictOf([true, true])).toBe("holds");
    expect(verdictOf([true, false])).toBe("misleading");
    expect(verdictOf([false])).toBe("wrong");
  });
});
