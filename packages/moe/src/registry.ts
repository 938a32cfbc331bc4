/** The strategies of this package by the names users type (a typed const map). */
import { dense } from "./dense.js";
import { moe } from "./moe.js";

/**
 * The ffn strategies by registry name (`Dense`, `MoE`): pass to a registry or look one up by label.
 */
export const moeStrategies = { Dense: dense, MoE: moe } as const;
