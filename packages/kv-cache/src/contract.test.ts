import { headsContract, kvDtypeContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { gqa } from "./gqa.js";
import { KV_DTYPE_NAMES, kvDtype } from "./kv-dtype.js";
import { mha } from "./mha.js";
import { mqa } from "./mqa.js";
import { kvCacheStrategies } from "./registry.js";

const registry = kvCacheStrategies;

/** Round-trip tolerance of the contract's vector (|x| ≤ 3): fp16 half-ulp at 2..4, int8 absmax/127/2. */
const CONTRACT_TOL = { fp32: 0, fp16: 2 ** -10, int8: 3 / 127 / 2 } as const;

strategyContract([mha(), gqa(), gqa({ kvHeads: 4 }), mqa()], registry, "heads");
strategyContract(
  KV_DTYPE_NAMES.map((dtype) => kvDtype({ dtype })),
  registry,
  "kv-dtype",
);
for (const s of [mha(), gqa(), gqa({ kvHeads: 1 }), gqa({ kvHeads: 4 }), mqa()])
  headsContract(s, [1, 2, 4, 8]);
for (const dtype of KV_DTYPE_NAMES) kvDtypeContract(kvDtype({ dtype }), { atol: CONTRACT_TOL[dtype] });
