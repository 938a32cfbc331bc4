// Entry of the WASM kernels module (compiled by `asc` during `pnpm build` into dist/wasm/kernels.wasm).
// Exports are plain functions over byte addresses in one imported shared memory; the JS side
// (src/wasm/) owns the memory layout, the worker threads and the ledger accounting.

export { attentionBlocked, attentionFinish, attentionTile } from "./attention-tile";
export { dequantRows, matmulDequant } from "./dequant";
export { expF64, expF64Pairs, siluBackwardF32 } from "./exp64";
export { attentionBackward } from "./flash-backward";
export {
  adamwF32,
  addF32,
  argmaxF32,
  copyBytes,
  expF32,
  maskedSoftmaxF32,
  mulF32,
  rmsNormBackwardF32,
  rmsNormF32,
  ropeF32,
  sampleF32,
  siluMulF32,
  softmaxF32,
  zeroBytes,
} from "./fused";
export { gemm, gemmBatched, gemmBlocks, gemmBlocksScratchBytes, gemmScratchBytes } from "./gemm";
export { gemvBlockScratchBytes, gemvI8, gemvQ4_0, gemvQ8_0 } from "./gemv";
export { gemvF32, readSum } from "./gemv-f32";
export { gemvF32x8 } from "./gemv-f32x8";
export { gemvNibble, gemvNibbleScratchBytes } from "./gemv-nibble";
export { gemvF16 } from "./gemv16";

/** First free byte after the module's static data: the JS arena starts here. */
export function heapBase(): usize {
  return (__heap_base + 63) & ~63;
}
