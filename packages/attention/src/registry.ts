/** The strategies of this package by the names users type (a typed const map). */
import { standard } from "./standard.js";

export const attentionStrategies = { Standard: standard } as const;
