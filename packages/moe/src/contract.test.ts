import { fp32 } from "@tradeoffs/quant";
import { ffnContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { dense } from "./dense.js";
import { moeStrategies } from "./registry.js";

strategyContract([dense()], moeStrategies, "ffn");
ffnContract(dense(), fp32());
