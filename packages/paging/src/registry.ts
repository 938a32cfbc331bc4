/** The strategies of this package by the names users type (a typed const map). */
import { contiguous } from "./contiguous.js";
import { paged } from "./paged.js";

export const pagingStrategies = { Contiguous: contiguous, Paged: paged } as const;
