/**
 * The `JS` strategy of the `backend` slot: the pure-JavaScript kernels. The baseline every faster
 * backend is tested against.
 */
import { jsBackend } from "./backend.js";
import { defineStrategy } from "./strategy.js";

export const js = defineStrategy({
  name: "JS",
  slot: "backend",
  description: "Pure JavaScript kernels (cache-blocked matmul); runs everywhere",
  options: {},
  plan: (p) => ({ ...p, backend: "JS" }),
  exec: () => ({ backend: jsBackend }),
});
