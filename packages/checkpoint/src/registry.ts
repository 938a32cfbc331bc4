/** The strategies of this package by the names users type (a typed const map). */
import { none } from "./none.js";

export const checkpointStrategies = { None: none } as const;
