// A scheduling fence for V8's optimising compiler (TurboFan), shared by the compute-bound packed GEMV
// kernels. Not here: any arithmetic.

/**
 * Stores `lane` (callers pass lane 0 of a block's integer dot) at `at`, a slot of this thread's own
 * output that the caller overwrites later.
 * TurboFan keeps loads in program order but sinks pure SIMD arithmetic to its first use, so in a step
 * over four GGUF blocks every weight and x load was issued before any product and their 30-odd vectors
 * spilled to the stack (seen with `node --print-wasm-code`). A store that needs this block's sum must
 * come before the next block's loads, so each block's loads are consumed while still in registers.
 * Measured (1 thread, 4096², x and W in cache, medians of 41 interleaved calls): Q8_0 1.18 → 0.92 ms,
 * Q4_0 1.32 → 1.07 ms.
 */
export function fence(at: usize, lane: i32): void {
  store<i32>(at, lane);
}
