/** The strategies of this package by the names users type (a typed const map). */
import { ckpt } from "./ckpt.js";
import { none } from "./none.js";

export const checkpointStrategies = { None: none, Ckpt: ckpt } as const;
