/** The strategies of this package by the names users type (a typed const map). */
import { flash } from "./flash.js";
import { standard } from "./standard.js";

export const attentionStrategies = { Standard: standard, Flash: flash } as const;
