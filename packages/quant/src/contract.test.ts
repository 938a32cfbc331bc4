import { strategyContract, weightsContract } from "@tradeoffs/strategy-testkit";
import { fp32 } from "./fp32.js";
import { quantStrategies } from "./registry.js";

strategyContract([fp32()], quantStrategies, "weights");
// FP32's packed matmul is the blocked GEMM; the reference loop sums in another order.
weightsContract(fp32(), { atol: 1e-5, rtol: 1e-5 });
