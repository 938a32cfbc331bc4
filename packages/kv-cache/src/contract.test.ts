import { headsContract, kvDtypeContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { kvDtype } from "./kv-dtype.js";
import { mha } from "./mha.js";
import { kvCacheStrategies } from "./registry.js";

strategyContract([mha()], kvCacheStrategies, "heads");
strategyContract([kvDtype()], kvCacheStrategies, "kv-dtype");
headsContract(mha(), [1, 2, 4, 8]);
kvDtypeContract(kvDtype(), { atol: 0 });
