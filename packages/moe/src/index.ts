/**
 * @tradeoffs/moe: the `ffn` slot. `Dense` is Llama's SwiGLU block.
 *
 * @packageDocumentation
 */
export { dense, makeLinear, SwiGlu } from "./dense.js";
export { moeStrategies } from "./registry.js";
