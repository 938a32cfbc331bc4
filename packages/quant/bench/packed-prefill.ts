/**
 * `pnpm bench packed-prefill [--reps N] [--shapes 128x2816x1024,...] [--formats INT8,Q4_0]`: products
 * with a packed W past decode size (prefill, training) on the WASM backend, side by side in one process:
 * the forward y = x·Wᵀ and the input gradient gx = g·W of `PackedLinear` as it runs by default (tiles
 * decoded inside the backend, `matmulDequantTiles`), against the same layer with that hook removed
 * (tiles decoded in JS, one `matmul` per tile: how every packed product past 64 rows ran before the
 * hook, but for the GGUF and 4-bit forwards, whose GEMV then took 64 rows at a time; packed-linear.ts
 * `kernelTakes` has those figures), and FP32's GEMM with a resident W. Formats: INT8, Q8_0, Q4_0,
 * INT4, NF4, FP16. Interleaved repetitions after one warm-up; medians in ms with the interquartile
 * range, and each ratio to FP32.
 * Not a test: nothing is asserted; the machine may be shared.
 */
import { loadavg } from "node:os";
import {
  type Backend,
  backward,
  disposeWasm,
  noGrad,
  Rng,
  randn,
  scope,
  sum,
  type Tensor,
  wasmAvailable,
  wasmBackend,
  withBackend,
} from "@tradeoffs/core-tensor";
import {
  Fp32Linear,
  fp16Format,
  int4Format,
  int8Format,
  nf4Format,
  PackedLinear,
  q4_0Format,
  q8_0Format,
  type WeightFormat,
} from "../src/index.js";

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const REPS = Number(opt("--reps", "9"));
/** M×N×K: `medium`'s FFN up projection (K = 1024 → N = 2816) and its down projection, at 128–512 rows. */
const SHAPE_TEXT = opt("--shapes", "128x2816x1024,256x2816x1024,512x2816x1024,256x1024x2816").split(",");
const SHAPES = SHAPE_TEXT.map((text) => {
  const dims = text.split("x").map(Number);
  if (dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    console.error(`--shapes takes M×N×K triples of positive integers such as 128x2816x1024, got '${text}'`);
    process.exit(2);
  }
  return dims as [number, number, number];
});
const FORMATS: Record<string, WeightFormat> = {
  INT8: int8Format(),
  Q8_0: q8_0Format,
  Q4_0: q4_0Format,
  INT4: int4Format({ group: 32 }),
  NF4: nf4Format(),
  FP16: fp16Format,
};
const NAMES = opt("--formats", "INT8,Q8_0,Q4_0,NF4,FP16").split(",");
for (const n of NAMES) {
  if (!FORMATS[n]) {
    console.error(`unknown format '${n}'; valid: ${Object.keys(FORMATS).join(", ")}`);
    process.exit(2);
  }
}
if (!wasmAvailable()) {
  console.log("WASM unavailable here: nothing to measure");
  process.exit(0);
}

const wasm = wasmBackend(2);
/** The same backend without the tiled hook: tiles decoded in JS, one `matmul` per tile. */
const { matmulDequantTiles: _tiles, ...rest } = wasm;
const withoutTiles: Backend = Object.freeze({ ...rest });

function stats(xs: number[]): { med: number; iqr: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { med: q(0.5), iqr: q(0.75) - q(0.25) };
}

/** ms of one forward (noGrad) or one forward + backward through x (the input gradient). */
function time(layer: PackedLinear | Fp32Linear, x: Tensor, grad: boolean): number {
  return scope(() => {
    const t0 = performance.now();
    if (grad) backward(sum(layer.apply(x)));
    else noGrad(() => layer.apply(x));
    return performance.now() - t0;
  });
}

console.log(
  `packed products on WASM (2 threads), medians of ${REPS} interleaved repetitions, ms ± IQR; load ${loadavg()[0]!.toFixed(1)}`,
);
console.log(
  "M×N×K".padEnd(16),
  "format".padEnd(8),
  "pass".padEnd(9),
  "FP32".padStart(13),
  "before".padStart(13),
  "tiled".padStart(13),
  "before/FP32".padStart(12),
  "tiled/FP32".padStart(11),
);
const rng = new Rng(7);
for (const [M, N, K] of SHAPES) {
  withBackend(wasm, () =>
    scope(() => {
      const w = randn([N, K], rng, { std: 0.02 });
      const fp32 = new Fp32Linear(w, "weights/bench"); // resident in WASM memory, like the packed bytes
      fp32.weight.requiresGrad = false; // the input gradient only, as for the frozen packed weights
      for (const name of NAMES) {
        const f = FORMATS[name]!;
        const tiled = new PackedLinear(f, w, "weights/bench", { backend: wasm });
        const before = new PackedLinear(f, w, "weights/bench", { backend: withoutTiles });
        for (const grad of [false, true]) {
          const x = randn([M, K], rng, { requiresGrad: grad });
          const runs = { fp32: [] as number[], before: [] as number[], tiled: [] as number[] };
          for (let r = 0; r <= REPS; r++) {
            const a = time(fp32, x, grad);
            const b = time(before, x, grad);
            const c = time(tiled, x, grad);
            if (r === 0) continue; // warm-up
            runs.fp32.push(a);
            runs.before.push(b);
            runs.tiled.push(c);
          }
          const [sf, sb, st] = [stats(runs.fp32), stats(runs.before), stats(runs.tiled)];
          const cell = (s: { med: number; iqr: number }) => `${s.med.toFixed(2)} ± ${s.iqr.toFixed(2)}`;
          console.log(
            `${M}×${N}×${K}`.padEnd(16),
            name.padEnd(8),
            (grad ? "fwd+bwd" : "forward").padEnd(9),
            cell(sf).padStart(13),
            cell(sb).padStart(13),
            cell(st).padStart(13),
            (sb.med / sf.med).toFixed(2).padStart(12),
            (st.med / sf.med).toFixed(2).padStart(11),
          );
        }
        tiled.dispose();
        before.dispose();
      }
      fp32.dispose();
    }),
  );
}
disposeWasm();
