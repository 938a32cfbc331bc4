import type { Registry } from "@tradeoffs/core-tensor";
import { fp32 } from "@tradeoffs/quant";
import { ffnContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { dense } from "./dense.js";
import { moe } from "./moe.js";
import { moeStrategies } from "./registry.js";

const registry: Registry = moeStrategies;

strategyContract(
  [
    dense(),
    moe(),
    moe({ experts: 4, topK: 1, capacity: 1.25 }),
    moe({ experts: 2, topK: 2, shared: 1, aux: 0, zloss: 0.001 }),
  ],
  registry,
  "ffn",
);
ffnContract(dense(), fp32());
ffnContract(moe(), fp32());
ffnContract(moe({ experts: 4, topK: 2, capacity: 1, shared: 1, zloss: 0.001 }), fp32());
