/** The strategies of this package by the names users type (a typed const map). */
import { dense } from "./dense.js";

export const moeStrategies = { Dense: dense } as const;
