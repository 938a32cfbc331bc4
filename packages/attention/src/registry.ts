/** The strategies of this package by the names users type (a typed const map). */
import { flash } from "./flash.js";
import { standard } from "./standard.js";

/**
 * The attention strategies by registry name (`Standard`, `Flash`): pass to a registry or look one
 * up by label.
 */
export const attentionStrategies = { Standard: standard, Flash: flash } as const;
