/**
 * The `JS` strategy of the `backend` slot: the pure-JavaScript kernels. The baseline every faster
 * backend is tested against.
 */
import { jsBackend } from "./backend.js";
import type { BackendCost } from "./plan.js";
import { defineStrategy } from "./strategy.js";

/** The JS kernels work on the tensors' own storage: no workspace beside the operands. */
export const jsCost: BackendCost = Object.freeze({
  name: "JS",
  matmulWorkspaceBytes: () => 0,
  residentWeights: false,
});

/**
 * The `JS` backend strategy (`js()` in code, `JS` in configurations): pure-JavaScript kernels on the
 * tensors' own storage. The baseline of the `backend` slot.
 */
export const js = defineStrategy({
  name: "JS",
  slot: "backend",
  description: "Pure JavaScript kernels (cache-blocked matmul); runs everywhere",
  options: {},
  plan: (p) => ({ ...p, backend: jsCost }),
  exec: () => ({ backend: jsBackend }),
});
