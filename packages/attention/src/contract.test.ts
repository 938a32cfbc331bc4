import type { Registry } from "@tradeoffs/core-tensor";
import { attentionContract, naiveAttention, strategyContract } from "@tradeoffs/strategy-testkit";
import { FLASH_FP32_TOL, flash } from "./flash.js";
import { attentionStrategies } from "./registry.js";
import { standard, standardAttention } from "./standard.js";

const registry: Registry = attentionStrategies;

strategyContract(
  [standard(), flash(), flash({ block: 1 }), flash({ block: 16, blockK: 8 }), flash({ blockQ: 4 })],
  registry,
  "attention",
);
/** Standard's f32 GEMMs and softmax against the f64 loops of the independent oracle. */
const STANDARD_FP32_TOL = { atol: 1e-5, rtol: 1e-5 };
attentionContract(standard(), naiveAttention, STANDARD_FP32_TOL);
for (const s of [flash(), flash({ block: 1 }), flash({ block: 2, blockK: 3 })]) {
  attentionContract(s, (q, k, v, o) => standardAttention(q, k, v, o), FLASH_FP32_TOL);
}
