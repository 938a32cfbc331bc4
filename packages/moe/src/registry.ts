/** The strategies of this package by the names users type (a typed const map). */
import { dense } from "./dense.js";
import { moe } from "./moe.js";

export const moeStrategies = { Dense: dense, MoE: moe } as const;
