/**
 * @tradeoffs/quant: the `weights` slot (how linear-layer weights are stored and multiplied) and the
 * `adapters` slot (trainable low-rank adapters on frozen weights).
 *
 * @packageDocumentation
 */
export { Fp32Linear, fp32 } from "./fp32.js";
export { quantStrategies } from "./registry.js";
