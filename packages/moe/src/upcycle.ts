/**
 * Sparse upcycling (Komatsuzaki et al. 2022): an MoE block whose every routed expert starts as a copy
 * of a trained dense SwiGLU block, with a small random router. With dropless capacity it computes what
 * the dense block did (the gates sum to 1 over identical experts) until training separates them.
 * Shared experts, if any, start random. Built through `FfnSpec.init`; not the training loop.
 */
import { type FfnSpec, randn, type Tensor } from "@tradeoffs/core-tensor";
import type { SwiGlu } from "./dense.js";
import { MoeFfn, type MoeOptions } from "./moe.js";

/** Std of the upcycled router's init: small, so routing starts near uniform. */
export const UPCYCLE_ROUTER_STD = 1e-3;

/** An MoE block whose E experts are copies of `dense` (the caller keeps `dense`). */
export function upcycleDense(
  dense: SwiGlu,
  spec: FfnSpec,
  options: MoeOptions,
  routerStd: number = UPCYCLE_ROUTER_STD,
): MoeFfn {
  // f32 copies of the dense matrices and the router init, [out, in]; freed once packed.
  const src: Record<string, Tensor> = {
    gate: dense.gate.dequantize(),
    up: dense.up.dequantize(),
    down: dense.down.dequantize(),
    router: randn([options.experts, dense.gate.inFeatures], spec.rng, { std: routerStd }),
  };
  try {
    return MoeFfn.create(
      {
        ...spec,
        init: (name) => {
          const m = /^experts\.\d+\.(gate|up|down)$/.exec(name);
          if (m) return src[m[1]!]!;
          return name === "router" ? src.router! : null;
        },
      },
      options,
    );
  } finally {
    for (const t of Object.values(src)) t.dispose();
  }
}
