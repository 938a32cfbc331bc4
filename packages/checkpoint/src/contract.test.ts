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
// Layers of 320 KiB saved activations and 16 KiB inputs: 16 of them hold 5 MiB, so both budgets bind
// (4 MiB from 16 layers, 1 MiB from 4) yet stay feasible at every layer count the contract runs; an
// infeasible budget throws and fails the contract (budget.test.ts covers that error on purpose).
for (const s of all) checkpointContract(s, 320 << 10, 16 << 10);
