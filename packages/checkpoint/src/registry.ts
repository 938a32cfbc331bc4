/** The strategies of this package by the names users type (a typed const map). */
import { ckpt } from "./ckpt.js";
import { none } from "./none.js";

/**
 * The checkpoint strategies by registry name (`None`, `Ckpt`): pass to a registry or look one up by
 * label.
 */
export const checkpointStrategies = { None: none, Ckpt: ckpt } as const;
