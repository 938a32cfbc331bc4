import { describe, expect, it } from "vitest";
import { wasmAvailable } from "./loader.js";
import { wasmRuntime } from "./runtime.js";
import { WASM_GEMM_SCRATCH_BYTES, wasm } from "./wasm-backend.js";

describe.runIf(wasmAvailable())("WASM backend cost", () => {
  it("the plan's packing scratch is the one the compiled GEMM reserves per thread", () => {
    expect(WASM_GEMM_SCRATCH_BYTES).toBe(wasmRuntime().gemmScratchBytes);
  });

  it("workspace = operands in f32 + one scratch per thread", () => {
    const cost = (threads: number) => wasm({ threads }).plan({ backend: null } as never).backend;
    expect(cost(2).matmulWorkspaceBytes(1000)).toBe(4000 + 2 * WASM_GEMM_SCRATCH_BYTES);
    expect(cost(1).matmulWorkspaceBytes(0)).toBe(WASM_GEMM_SCRATCH_BYTES);
  });
});
