/** The strategies of this package by the names users type (a typed const map). */
import { kvDtype } from "./kv-dtype.js";
import { mha } from "./mha.js";

export const kvCacheStrategies = { MHA: mha, KV: kvDtype } as const;
