/**
 * Kept for imports of this path: AdamW now lives in optim/adamw.ts beside the other optimizers
 * (8-bit AdamW, Adafactor, SGD, Lion) and their shared interface (optim/optimizer.ts).
 */
export { AdamW, type AdamWOptions } from "./optim/adamw.js";
