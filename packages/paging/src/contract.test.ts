import { kvDtype } from "@tradeoffs/kv-cache";
import { kvMemoryContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { contiguous } from "./contiguous.js";
import { pagingStrategies } from "./registry.js";

strategyContract([contiguous()], pagingStrategies, "kv-memory");
kvMemoryContract(contiguous(), kvDtype().exec);
