/**
 * `@tradeoffs/bench-reference`: reference libraries for the benches (private, benchmark-only). The
 * matmul wrappers, the decode bench's GEMV rows, and the on-demand install of the runtimes they need.
 */

export { type ReferenceGemv, type ReferenceGemvRow, referenceGemv } from "./gemv.js";
export {
  matmulOnnxModel,
  onnxRuntime,
  type PreparedMatmul,
  type ReferenceMatmul,
  tfjsWasm,
} from "./matmul.js";
export {
  ensureRuntimes,
  missingRuntimes,
  pinnedRuntimes,
  RuntimeInstallError,
  runtimesDir,
} from "./runtimes.js";
