import { attentionContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { attentionStrategies } from "./registry.js";
import { standard, standardAttention } from "./standard.js";

strategyContract([standard()], attentionStrategies, "attention");
attentionContract(standard(), (q, k, v, o) => standardAttention(q, k, v, o), { atol: 0 });
