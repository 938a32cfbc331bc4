import { afterAll, describe, expect, it } from "vitest";
import { backward } from "../autograd.js";
import { getBackend, jsBackend, setBackend, withBackend } from "../backend.js";
import { ConfigError } from "../errors.js";
import { getLedger } from "../ledger.js";
import { matmul } from "../ops/matmul.js";
import { sum } from "../ops/reduce.js";
import { parseConfig } from "../parse.js";
import type { Plan } from "../plan.js";
import { Rng } from "../rng.js";
import { compose } from "../strategy.js";
import { randn, scope } from "../tensor.js";
import { wasmAvailable } from "./loader.js";
import { disposeWasm } from "./runtime.js";
import { wasm, wasmBackend } from "./wasm-backend.js";

/** Same as WASM_MATMUL_TOL in matmul.test.ts: f32 blocked sums vs JS blocked sums, K ≤ 1024. */
const WASM_OPS_TOL = { atol: 1e-4, rtol: 1e-4 } as const;

afterAll(() => disposeWasm());

/** Same length, non-empty, and every element within the tolerance (an empty result never passes). */
function close(a: Float32Array, b: Float32Array): boolean {
  return (
    a.length > 0 &&
    a.length === b.length &&
    a.every((x, i) => Math.abs(x - b[i]!) <= WASM_OPS_TOL.atol + WASM_OPS_TOL.rtol * Math.abs(b[i]!))
  );
}

describe("the WASM strategy (slot backend)", () => {
  it("is available on this Node (SIMD + threads)", () => {
    expect(wasmAvailable()).toBe(true);
  });

  it("has the contract's identity fields, a canonical label, and parses back", () => {
    const s = wasm();
    expect(s.name).toBe("WASM");
    expect(s.slot).toBe("backend");
    expect(s.options.threads).toBe(2);
    expect(Object.isFrozen(s.options)).toBe(true);
    const one = wasm({ threads: 1 });
    const again = parseConfig(one.label, { WASM: wasm });
    expect(again.label).toBe(compose(one).label);
  });

  it("rejects threads outside 1..2 with a ConfigError naming the valid range", () => {
    expect(() => wasm({ threads: 3 })).toThrow(ConfigError);
    expect(() => wasm({ threads: 3 })).toThrow(/threads/);
  });

  it("plan() is pure: a new object with the WASM backend's costs, the input untouched", () => {
    const js = Object.freeze({ name: "JS", matmulWorkspaceBytes: () => 0 });
    const p = Object.freeze({ backend: js, notes: Object.freeze([]) }) as unknown as Plan;
    const q = wasm().plan(p);
    expect(q).not.toBe(p);
    expect(q.backend.name).toBe("WASM");
    expect(q.backend.matmulWorkspaceBytes(0)).toBeGreaterThan(0);
    expect(p.backend).toBe(js);
  });

  it("exec is a Backend overriding matmul and the step kernels, inheriting the rest from JS", () => {
    const { backend } = wasm({ threads: 1 }).exec;
    expect(backend.name).toBe("WASM");
    expect(backend.matmul).not.toBe(jsBackend.matmul);
    for (const k of ["softmax", "rmsNorm", "rope", "binary", "unary"] as const) {
      expect(backend[k], k).not.toBe(jsBackend[k]);
    }
    expect(backend.siluMul && backend.adamw && backend.sample && backend.attentionBackward).toBeTruthy();
    expect(backend.layerNorm).toBe(jsBackend.layerNorm);
    expect(wasmBackend(1)).toBe(backend); // cached
    // Building the exec registers nothing: selecting a backend is explicit.
    const prev = setBackend(backend);
    try {
      expect(getBackend()).toBe(backend);
    } finally {
      setBackend(prev);
    }
  });

  for (const threads of [1, 2]) {
    it(`tensor matmul forward and gradients match JS (${threads} thread${threads > 1 ? "s" : ""})`, () => {
      const run = () =>
        scope(() => {
          const rng = new Rng(11);
          const x = randn([3, 37, 70], rng, { requiresGrad: true });
          const w = randn([90, 70], rng, { requiresGrad: true });
          const y = matmul(x, w, { transB: true }); // [3, 37, 90]
          backward(sum(y));
          const out = [y.data.slice(), x.grad!.data.slice(), w.grad!.data.slice()];
          return out;
        });
      const before = getLedger().live();
      const js = withBackend(jsBackend, run);
      const wa = withBackend(wasmBackend(threads), run);
      expect(getLedger().live()).toBe(before);
      for (let i = 0; i < js.length; i++) expect(close(wa[i]!, js[i]!)).toBe(true);
    });
  }
});
