/**
 * `pnpm bench fused [--json] [--reps N]`: microseconds per call of each step kernel (add, mul, silu,
 * silu·up, SiLU backward, RMSNorm and its backward, RoPE, softmax, masked softmax, argmax, AdamW) on the JS reference and on WASM, over
 * sizes around the dispatch thresholds (`FUSED_MIN_ELEMENTS`), interleaved rounds, medians. The
 * crossover is where WASM (staging copies and a workspace charge included) starts to win. Not a test:
 * nothing is asserted.
 */
import { loadavg } from "node:os";
import * as ew from "../src/kernels/elementwise.js";
import * as fusedJs from "../src/kernels/fused.js";
import * as rows from "../src/kernels/rows.js";
import {
  FUSED_MIN_ELEMENTS,
  type FusedKernelName,
  wasmAdamw,
  wasmAdd,
  wasmArgmax,
  wasmMaskedSoftmax,
  wasmRmsNorm,
  wasmRmsNormBackward,
  wasmRope,
  wasmSilu,
  wasmSiluBackward,
  wasmSiluMul,
  wasmSoftmax,
} from "../src/wasm/fused.js";
import { wasmAvailable, wasmUnavailableReason } from "../src/wasm/loader.js";
import { disposeWasm, wasmRuntime } from "../src/wasm/runtime.js";

const argv = process.argv.slice(2);
const JSON_OUT = argv.includes("--json");
const at = argv.indexOf("--reps");
const REPS = at >= 0 ? Number(argv[at + 1]) : 9;
const SIZES = [192, 512, 1024, 2048, 4096, 8192, 32768];
/** Row width for the row kernels (the `small` model's dModel). */
const COLS = 192;
/** RoPE head dimension. */
const HEAD = 32;

if (!wasmAvailable()) {
  console.log(`WASM unavailable here (${wasmUnavailableReason()}): nothing to measure`);
  process.exit(0);
}

type Pair = { js: () => void; wasm: () => void };

function cases(n: number): Record<Exclude<FusedKernelName, "sample">, Pair> {
  const rt = wasmRuntime();
  const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
  const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
  const o = new Float32Array(n);
  const w = new Float32Array(COLS).fill(1.1);
  const r = Math.ceil(n / COLS);
  const x = new Float32Array(r * COLS);
  const y = new Float32Array(r * COLS);
  const idx = new Int32Array(1);
  const adam = () => ({
    param: a.slice(),
    grad: b,
    m: new Float32Array(n),
    v: new Float32Array(n),
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    decay: 1,
    gradScale: 1,
    bc1: 0.1,
    bc2: 0.05,
  });
  const rs = new Float32Array(r).fill(0.9);
  const gwBack = new Float32Array(COLS);
  const x2 = new Float32Array(r * COLS);
  const normBack = () => ({ x, w, rstd: rs, g: y, rows: r, cols: COLS, gx: x2, gw: gwBack });
  const causal = { rows: n / 64, tq: 64, tk: 64, scale: 0.125, causal: true };
  const aj = adam();
  const aw = adam();
  return {
    add: { js: () => ew.binary("add", a, [n], b, [n], o), wasm: () => wasmAdd(a, b, o, rt) },
    mul: { js: () => ew.binary("mul", a, [n], b, [n], o), wasm: () => wasmAdd(a, b, o, rt, "mul") },
    silu: { js: () => ew.unary("silu", a, o), wasm: () => wasmSilu(a, o, rt) },
    siluMul: { js: () => fusedJs.siluMul(a, b, o), wasm: () => wasmSiluMul(a, b, o, rt) },
    siluBackward: { js: () => fusedJs.siluBackward(b, a, o), wasm: () => wasmSiluBackward(b, a, o, rt) },
    rmsNorm: {
      js: () => rows.rmsNorm(x, w, y, r, COLS, 1e-5),
      wasm: () => wasmRmsNorm(x, w, y, r, COLS, 1e-5, undefined, rt),
    },
    rmsNormBackward: {
      js: () => rows.rmsNormBackward(normBack()),
      wasm: () => wasmRmsNormBackward(normBack(), rt),
    },
    rope: {
      js: () => rows.rope(a, o, n / HEAD, 1, HEAD, [7], 1e4, false),
      wasm: () => wasmRope(a, o, n / HEAD, 1, HEAD, [7], 1e4, false, rt),
    },
    softmax: {
      js: () => rows.softmax(a, o, n / 64, 64, false),
      wasm: () => wasmSoftmax(a, o, n / 64, 64, false, rt),
    },
    maskedSoftmax: {
      // Causal prefill scores: n/64 query rows of 64 keys.
      js: () => fusedJs.maskedSoftmax({ ...causal, x: a, out: o }),
      wasm: () => wasmMaskedSoftmax({ ...causal, x: a, out: o }, rt),
    },
    argmax: { js: () => rows.argmax(a, 1, n, idx), wasm: () => wasmArgmax(a, 1, n, idx, rt) },
    adamw: { js: () => fusedJs.adamw(aj), wasm: () => wasmAdamw(aw, rt) },
  };
}

/** Median µs per call of `f`, timed in batches so one timer read covers many calls. */
function usPerCall(f: () => void, calls: number): number {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) f();
  return ((performance.now() - t0) / calls) * 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const rowsOut: { kernel: string; n: number; jsUs: number; wasmUs: number; threshold: number }[] = [];
for (const n of SIZES) {
  const c = cases(n);
  const calls = Math.max(20, Math.round(200_000 / n));
  for (const [name, p] of Object.entries(c) as [Exclude<FusedKernelName, "sample">, Pair][]) {
    const js: number[] = [];
    const wasm: number[] = [];
    for (let rep = 0; rep < REPS + 2; rep++) {
      const tj = usPerCall(p.js, calls);
      const tw = usPerCall(p.wasm, calls);
      if (rep >= 2) {
        js.push(tj);
        wasm.push(tw);
      }
    }
    rowsOut.push({
      kernel: name,
      n,
      jsUs: median(js),
      wasmUs: median(wasm),
      threshold: FUSED_MIN_ELEMENTS[name],
    });
  }
}
disposeWasm();

if (JSON_OUT) {
  console.log(JSON.stringify({ loadavg: loadavg(), reps: REPS, rows: rowsOut }, null, 2));
} else {
  console.log(
    `step kernels, µs per call (median of ${REPS}); loadavg ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(`${"kernel".padEnd(8)} ${SIZES.map((n) => `${n}`.padStart(15)).join("")}   threshold`);
  for (const name of new Set(rowsOut.map((r) => r.kernel))) {
    const cells = SIZES.map((n) => {
      const r = rowsOut.find((x) => x.kernel === name && x.n === n)!;
      return `${r.jsUs.toFixed(1)}/${r.wasmUs.toFixed(1)}${r.wasmUs < r.jsUs ? "*" : " "}`.padStart(15);
    });
    console.log(`${name.padEnd(8)} ${cells.join("")}   ${FUSED_MIN_ELEMENTS[name as FusedKernelName]}`);
  }
  console.log("cells: JS/WASM µs; * WASM faster");
}
