import { describe, expect, it } from "vitest";
import { SOURCE_CONDITION, tradeoffsProject } from "../index.js";

describe("@tradeoffs/vitest-config", () => {
  it("makes workspace packages resolve to their TypeScript sources", () => {
    const config = tradeoffsProject(new URL("../vitest.config.ts", import.meta.url).href);
    expect(config.resolve?.conditions?.[0]).toBe(SOURCE_CONDITION);
    expect(config.ssr?.resolve?.conditions?.[0]).toBe(SOURCE_CONDITION);
    expect(config.test?.name).toBe("@tradeoffs/vitest-config");
    expect(config.test?.pool).toBe("forks");
    expect(config.test?.testTimeout).toBe(60_000);
  });

  it("merges overrides", () => {
    const config = tradeoffsProject(import.meta.url, { test: { testTimeout: 5 } });
    expect(config.test?.testTimeout).toBe(5);
    expect(config.test?.pool).toBe("forks");
  });
});
