import { strategyContract, weightsContract } from "@tradeoffs/strategy-testkit";
import { fp32 } from "./fp32.js";
import { bf16, fp16 } from "./half.js";
import { int4 } from "./int4.js";
import { int8 } from "./int8.js";
import { lora } from "./lora.js";
import { nf4 } from "./nf4.js";
import { q4_0 } from "./q4-0.js";
import { q8_0 } from "./q8-0.js";
import { quantStrategies } from "./registry.js";

/**
 * Packed apply vs x·dequantize(W)ᵀ: both sum 64 f32 products of the same decoded weights, in
 * different orders (and the tiled path through the backend GEMM), so fp32 rounding only.
 */
const PACKED_MATMUL_TOL = { atol: 1e-5, rtol: 1e-5 };

const weights = [
  fp16(),
  bf16(),
  int8(),
  int8({ group: 32 }),
  int4(),
  int4({ group: 0 }),
  nf4(),
  nf4({ dq: false, block: 32 }),
  q8_0(),
  q4_0(),
];

strategyContract([fp32(), ...weights], quantStrategies, "weights");
strategyContract([lora(), lora({ rank: 4, alpha: 8, targets: "all" })], quantStrategies, "adapters");
// FP32's packed matmul is the blocked GEMM; the reference loop sums in another order.
weightsContract(fp32(), { atol: 1e-5, rtol: 1e-5 });
for (const s of weights) weightsContract(s, PACKED_MATMUL_TOL);
