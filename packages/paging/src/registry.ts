/** The strategies of this package by the names users type (a typed const map). */
import { contiguous } from "./contiguous.js";

export const pagingStrategies = { Contiguous: contiguous } as const;
