import type { Registry } from "@tradeoffs/core-tensor";
import { attentionContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { FLASH_FP32_TOL, flash } from "./flash.js";
import { attentionStrategies } from "./registry.js";
import { standard, standardAttention } from "./standard.js";

// Cast until core's `RegistryEntry` accepts factories with options (as kv-cache does).
const registry = attentionStrategies as unknown as Registry;

strategyContract(
  [standard(), flash(), flash({ block: 1 }), flash({ block: 16, blockK: 8 }), flash({ blockQ: 4 })],
  registry,
  "attention",
);
attentionContract(standard(), (q, k, v, o) => standardAttention(q, k, v, o), { atol: 0 });
for (const s of [flash(), flash({ block: 1 }), flash({ block: 2, blockK: 3 })]) {
  attentionContract(s, (q, k, v, o) => standardAttention(q, k, v, o), FLASH_FP32_TOL);
}
