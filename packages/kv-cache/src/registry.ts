/** The strategies of this package by the names users type (a typed const map). */
import { gqa } from "./gqa.js";
import { kvDtype } from "./kv-dtype.js";
import { mha } from "./mha.js";
import { mqa } from "./mqa.js";

/** `MHA`, `GQA`, `MQA` and `KV`, keyed by the word users type. */
export const kvCacheStrategies = { MHA: mha, GQA: gqa, MQA: mqa, KV: kvDtype } as const;
