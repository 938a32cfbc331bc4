import { ValueError } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { DEVICES, deviceFromJson, getDevice } from "./hardware.js";

describe("hardware presets", () => {
  it("capacities are what the driver reports, not 80e9 (nvidia-smi MiB × 2^20)", () => {
    expect(getDevice("a100-80gb").memoryBytes).toBe(85_899_345_920); // 81920 MiB = 80 GiB
    expect(getDevice("h100-80gb").memoryBytes).toBe(85_520_809_984); // 81559 MiB
    expect(getDevice("a100-40gb").memoryBytes).toBe(42_949_672_960);
    expect(getDevice("h200").memoryBytes).toBe(143_771 * 2 ** 20);
  });

  it("every preset is complete: memory, bandwidth, bf16 peak, a source, efficiencies in (0, 1]", () => {
    for (const d of Object.values(DEVICES)) {
      expect(d.memoryBytes, d.name).toBeGreaterThan(16 * 2 ** 30);
      expect(Number.isInteger(d.memoryBytes), d.name).toBe(true);
      expect(d.bandwidth, d.name).toBeGreaterThan(1e11);
      expect(d.flops.bf16, d.name).toBeGreaterThan(1e13);
      expect(d.flops.int8, d.name).toBeGreaterThanOrEqual(d.flops.bf16);
      expect(d.source.length, d.name).toBeGreaterThan(5);
      for (const e of Object.values(d.efficiency)) expect(e > 0 && e <= 1, d.name).toBe(true);
    }
  });

  it("the issue's list is all there", () => {
    for (const n of [
      "a100-40gb",
      "a100-80gb",
      "h100-sxm",
      "h100-pcie",
      "h200",
      "l4",
      "l40s",
      "rtx-3090",
      "rtx-4090",
      "mi300x",
      "m2-ultra",
      "m3-max",
    ])
      expect(DEVICES[n], n).toBeDefined();
  });

  it("an unknown name is a ValueError naming the closest preset", () => {
    expect(() => getDevice("h100-80")).toThrow(ValueError);
    expect(() => getDevice("h100-80")).toThrow(/did you mean 'h100-80gb'/);
  });

  it("a user preset from JSON: defaults filled, every problem reported at once", () => {
    const d = deviceFromJson({ name: "b200", memoryBytes: 192e9, bandwidth: 8e12, flops: { bf16: 2.25e15 } });
    expect(d.flops.fp16).toBe(2.25e15);
    expect(d.gpusPerNode).toBe(8);
    expect(() => deviceFromJson({ name: "", bandwidth: -1, flops: {} })).toThrow(
      /'name'.*'memoryBytes'.*'bandwidth'.*'bf16'/,
    );
    expect(() => deviceFromJson([1])).toThrow(ValueError);
  });
});
