/**
 * `pnpm bench gemv-backend [--reps N]`: the decode GEMV (M = 1) of every format with a kernel layout,
 * run by quant's JS GEMV and by the WASM backend's `matmulDequant` (1 and 2 threads), interleaved
 * each repetition; medians in ms and the WASM/JS ratio. Decides whether `backendGemv` can be the
 * default (it may only when no ratio exceeds 1). Not a test: nothing is asserted.
 */
import { disposeWasm, noGrad, Rng, randn, wasmAvailable, wasmBackend } from "@tradeoffs/core-tensor";
import {
  int4Format,
  nf4Format,
  PackedLinear,
  q4_0Format,
  q8_0Format,
  type WeightFormat,
} from "../src/index.js";

const repsArg = process.argv.indexOf("--reps");
const REPS = repsArg >= 0 ? Number(process.argv[repsArg + 1]) : 15;
if (!wasmAvailable()) {
  console.log("WASM unavailable here: nothing to compare");
  process.exit(0);
}

const formats: WeightFormat[] = [
  q8_0Format,
  q4_0Format,
  int4Format({ group: 32 }),
  nf4Format({ block: 64, dq: true }),
  nf4Format({ block: 64, dq: false }),
];
/** [out N, in K]: a 7B-class square projection and a ~100M-parameter model's FFN up / down. */
const shapes: [number, number][] = [
  [4096, 4096],
  [3072, 768],
  [768, 3072],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const rng = new Rng(7);
console.log(`decode GEMV, M = 1, medians of ${REPS} interleaved repetitions (ms)`);
console.log(
  "format".padEnd(24),
  "N×K".padEnd(10),
  "JS".padStart(8),
  "WASM×1".padStart(8),
  "WASM×2".padStart(8),
  "×1/JS".padStart(7),
  "×2/JS".padStart(7),
);
noGrad(() => {
  for (const [N, K] of shapes) {
    const w = randn([N, K], rng, { std: 0.02 });
    const x = randn([1, K], rng);
    for (const f of formats) {
      const variants = [
        new PackedLinear(f, w, "weights/bench"),
        new PackedLinear(f, w, "weights/bench", { backend: wasmBackend(1), backendGemv: true }),
        new PackedLinear(f, w, "weights/bench", { backend: wasmBackend(2), backendGemv: true }),
      ];
      const times = variants.map(() => [] as number[]);
      for (let r = 0; r < REPS + 2; r++) {
        variants.forEach((l, i) => {
          const t0 = performance.now();
          const y = l.apply(x);
          const dt = performance.now() - t0;
          y.dispose();
          if (r >= 2) times[i]!.push(dt);
        });
      }
      const [js, w1, w2] = times.map(median) as [number, number, number];
      console.log(
        f.name.padEnd(24),
        `${N}×${K}`.padEnd(10),
        js.toFixed(3).padStart(8),
        w1.toFixed(3).padStart(8),
        w2.toFixed(3).padStart(8),
        (w1 / js).toFixed(2).padStart(7),
        (w2 / js).toFixed(2).padStart(7),
      );
      for (const l of variants) l.dispose();
    }
    w.dispose();
    x.dispose();
  }
});
disposeWasm();
