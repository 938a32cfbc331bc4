/** The strategies of this package by the names users type (a typed const map). */
import { fp32 } from "./fp32.js";

export const quantStrategies = { FP32: fp32 } as const;
