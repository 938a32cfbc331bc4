import { disposeWasm, jsBackend, type Registry, wasm, wasmAvailable } from "@tradeoffs/core-tensor";
import { attentionContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { afterAll } from "vitest";
import { FLASH_FP32_TOL, flash } from "./flash.js";
import { attentionStrategies } from "./registry.js";
import { standard } from "./standard.js";

const registry: Registry = attentionStrategies;

afterAll(() => disposeWasm());

strategyContract(
  [
    standard(),
    standard({ window: 4 }),
    flash(),
    flash({ block: 1 }),
    flash({ block: 16, blockK: 8 }),
    flash({ blockQ: 4 }),
    flash({ window: 4 }),
  ],
  registry,
  "attention",
);
/** Standard's f32 GEMMs and softmax against the f64 loops of the independent oracle. */
const STANDARD_FP32_TOL = { atol: 1e-5, rtol: 1e-5 };
// Every attention strategy against the testkit's independent oracle (causal and not × window and not
// × default and explicit scale, Tq ≤ Tk), on the JS backend and, where it runs, on WASM (Flash's
// inference path there is the backend's attention kernel).
const backends = [jsBackend, ...(wasmAvailable() ? [wasm().exec.backend] : [])];
attentionContract(standard(), STANDARD_FP32_TOL, { backends });
for (const s of [flash(), flash({ block: 1 }), flash({ block: 2, blockK: 3 })]) {
  attentionContract(s, FLASH_FP32_TOL, { backends });
}
