/**
 * `pnpm bench quant [--json] [--reps N]`: for every weight format, on one random normal 4096×4096
 * weight: bits per weight, packed bytes, round-trip RMSE relative to the weight RMS, and GEMV time
 * (M = 1, K = N = 4096, the decode case) relative to FP32, all measured side by side in one run
 * (formats interleaved each repetition; medians). Not a test: nothing is asserted.
 */
import { getLedger, type LinearWeight, noGrad, Rng, randn, type Tensor } from "@tradeoffs/core-tensor";
import {
  bf16Format,
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

const json = process.argv.includes("--json");
const repsArg = process.argv.indexOf("--reps");
const REPS = repsArg >= 0 ? Number(process.argv[repsArg + 1]) : 15;
const N = 4096;
const K = 4096;

const formats: WeightFormat[] = [
  fp16Format,
  bf16Format,
  int8Format({ group: 0 }),
  int8Format({ group: 128 }),
  int4Format({ group: 32 }),
  nf4Format({ block: 64, dq: true }),
  nf4Format({ block: 64, dq: false }),
  q8_0Format,
  q4_0Format,
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function relRmse(w: Tensor, layer: LinearWeight): number {
  const dq = layer.dequantize();
  const a = w.data;
  const b = dq.data;
  let se = 0;
  let ss = 0;
  for (let i = 0; i < a.length; i++) {
    se += (a[i]! - b[i]!) ** 2;
    ss += a[i]! ** 2;
  }
  dq.dispose();
  return Math.sqrt(se / ss);
}

const rng = new Rng(42);
const w = randn([N, K], rng, { std: 0.02 });
const x = randn([1, K], rng);
const layers: { name: string; bits: number; layer: LinearWeight }[] = [
  { name: "FP32", bits: 32, layer: new Fp32Linear(w, "weights/bench") },
];
for (const f of formats) {
  const before = getLedger().live("weights");
  const layer = new PackedLinear(f, w, "weights/bench");
  if (getLedger().live("weights") - before !== layer.bytes) throw new Error(`${f.name}: ledger mismatch`);
  layers.push({ name: f.name, bits: f.bitsFor(N, K), layer });
}

const times = layers.map(() => [] as number[]);
noGrad(() => {
  // Round r starts at format r mod n: none always runs first or after the same neighbour.
  for (let r = 0; r < REPS + 2; r++) {
    for (let j = 0; j < layers.length; j++) {
      const i = (r + j) % layers.length;
      const t0 = performance.now();
      const y = layers[i]!.layer.apply(x);
      const dt = performance.now() - t0;
      y.dispose();
      if (r >= 2) times[i]!.push(dt); // two warm-up rounds
    }
  }
});

const fp32Ms = median(times[0]!);
const rows = layers.map((l, i) => ({
  format: l.name,
  bitsPerWeight: Number(l.bits.toFixed(4)),
  bytes: l.layer.bytes,
  relRmse: i === 0 ? 0 : Number(relRmse(w, l.layer).toExponential(3)),
  gemvMs: Number(median(times[i]!).toFixed(3)),
  vsFp32: Number((median(times[i]!) / fp32Ms).toFixed(2)),
}));
const int8Row = rows.find((r) => r.format === "INT8[group=0]")!;
const nf4Row = rows.find((r) => r.format === "NF4[block=64,dq=true]")!;
const targets = {
  int8AtMost1x: int8Row.vsFp32 <= 1.0,
  nf4AtMost1_5x: nf4Row.vsFp32 <= 1.5,
};

if (json) {
  console.log(JSON.stringify({ bench: "quant", shape: { m: 1, k: K, n: N }, reps: REPS, rows, targets }));
} else {
  console.log(
    `GEMV y = x·Wᵀ, x [1, ${K}], W [${N}, ${K}] (random normal), median of ${REPS} interleaved runs`,
  );
  const header = ["format", "bits/weight", "bytes", "rel. RMSE", "GEMV ms", "× FP32"];
  const body = rows.map((r) => [
    r.format,
    r.bitsPerWeight.toFixed(3),
    `${(r.bytes / 2 ** 20).toFixed(2)} MiB`,
    r.relRmse === 0 ? "0" : r.relRmse.toExponential(2),
    r.gemvMs.toFixed(2),
    r.vsFp32.toFixed(2),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((s, c) => s.padEnd(widths[c]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((n) => "-".repeat(n + 2)).join("|")}|`);
  for (const b of body) console.log(line(b));
  console.log(
    `targets: INT8 ≤ 1.0× FP32: ${targets.int8AtMost1x ? "met" : "missed"} (${int8Row.vsFp32}×); NF4 ≤ 1.5×: ${targets.nf4AtMost1_5x ? "met" : "missed"} (${nf4Row.vsFp32}×)`,
  );
}
for (const l of layers) l.layer.dispose();
w.dispose();
x.dispose();
