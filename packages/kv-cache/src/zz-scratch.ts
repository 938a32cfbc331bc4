import type { Registry } from "@tradeoffs/core-tensor";
import { kvCacheStrategies } from "./registry.js";
export const r: Registry = kvCacheStrategies;
