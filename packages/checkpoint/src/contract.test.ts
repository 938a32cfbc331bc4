import type { Registry } from "@tradeoffs/core-tensor";
import { checkpointContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { ckpt } from "./ckpt.js";
import { none } from "./none.js";
import { checkpointStrategies } from "./registry.js";

const registry: Registry = checkpointStrategies;

const all = [
  none(),
  ckpt(),
  ckpt({ policy: "sqrt" }),
  ckpt({ policy: "all" }),
  ckpt({ every: 2 }),
  ckpt({ every: 3 }),
  ckpt({ budget: 4 << 20 }),
  ckpt({ budget: 1 << 20 }),
];
strategyContract(all, registry, "checkpoint");
for (const s of all) checkpointContract(s);
