/** The strategies of this package by the names users type (a typed const map). */
import { contiguous } from "./contiguous.js";
import { paged } from "./paged.js";

/**
 * The kv-memory strategies by registry name (`Contiguous`, `Paged`): pass to a registry or look one
 * up by label.
 */
export const pagingStrategies = { Contiguous: contiguous, Paged: paged } as const;
