/**
 * `pnpm bench matmul [--json] [--quick]`: GFLOP/s of C = A·B (f32, row-major) for every contender in one
 * run: the naive triple loop (oracle), the JS backend's blocked GEMM, and — when available — the WASM
 * backend on 1 and 2 threads and the reference libraries of `tooling/bench-reference`.
 * Not a test: nothing is asserted; figures depend on the machine.
 */
import { type MatmulArgs, matmulBlocked, matmulNaive } from "../src/index.js";

interface Shape {
  readonly name: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

/** A contender multiplies row-major A [m,k] by B [k,n] into C [m,n]; `prepare` may copy operands in. */
interface Contender {
  readonly name: string;
  /** Skip shapes whose m·k·n exceeds this (the naive loop is far too slow at 2048³). */
  readonly maxWork?: number;
  prepare(a: Float32Array, b: Float32Array, s: Shape): Promise<() => void> | (() => void);
  release?(): void;
}

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");

const SHAPES: Shape[] = [
  { name: "256³", m: 256, k: 256, n: 256 },
  { name: "512³", m: 512, k: 512, n: 512 },
  { name: "1024³", m: 1024, k: 1024, n: 1024 },
  { name: "2048³", m: 2048, k: 2048, n: 2048 },
  { name: "1×4096×4096", m: 1, k: 4096, n: 4096 },
  { name: "64×4096×4096", m: 64, k: 4096, n: 4096 },
];

function args(a: Float32Array, b: Float32Array, c: Float32Array, s: Shape): MatmulArgs {
  return {
    m: s.m,
    n: s.n,
    k: s.k,
    batch: 1,
    a,
    aOffset: 0,
    aBatchStride: 0,
    transA: false,
    b,
    bOffset: 0,
    bBatchStride: 0,
    transB: false,
    c,
    cOffset: 0,
    cBatchStride: 0,
  };
}

function jsContender(name: string, fn: (p: MatmulArgs) => void, maxWork?: number): Contender {
  return {
    name,
    ...(maxWork !== undefined ? { maxWork } : {}),
    prepare: (a, b, s) => {
      const c = new Float32Array(s.m * s.n);
      const p = args(a, b, c, s);
      return () => fn(p);
    },
  };
}

/** Median seconds of `fn` over repeats within a ~`budget` s time budget (at least `min` runs). */
function time(fn: () => void, budget: number, min = 3): number {
  fn(); // warm-up (JIT, packing buffers, worker start)
  const times: number[] = [];
  const start = performance.now();
  while (times.length < min || (performance.now() - start < budget * 1000 && times.length < 50)) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
    // One slow run is enough for a slow contender.
    if (times.length >= 1 && times[0]! > budget) break;
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)]!;
}

async function loadContenders(): Promise<{ contenders: Contender[]; notes: string[] }> {
  const notes: string[] = [];
  const contenders: Contender[] = [
    // The naive loop: 1024³ is timed once (~5 s); 2048³ and the 4096² decode shapes are skipped.
    jsContender("naive", matmulNaive, 1024 ** 3),
    jsContender("JS", matmulBlocked),
  ];
  return { contenders, notes };
}

const { contenders, notes } = await loadContenders();
const shapes = quick ? SHAPES.filter((s) => s.m * s.k * s.n <= 512 ** 3) : SHAPES;
const rng = (() => {
  let x = 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  };
})();

type Row = { shape: string; gflops: Record<string, number | null> };
const rows: Row[] = [];
for (const s of shapes) {
  const a = new Float32Array(s.m * s.k).map(rng);
  const b = new Float32Array(s.k * s.n).map(rng);
  const flops = 2 * s.m * s.n * s.k;
  const row: Row = { shape: s.name, gflops: {} };
  for (const c of contenders) {
    if (c.maxWork !== undefined && s.m * s.k * s.n > c.maxWork) {
      row.gflops[c.name] = null;
      continue;
    }
    const run = await c.prepare(a, b, s);
    const budget = s.m * s.k * s.n >= 1024 ** 3 ? 3 : 1;
    const sec = time(run, budget, c.name === "naive" && s.m * s.k * s.n >= 1024 ** 3 ? 1 : 3);
    row.gflops[c.name] = flops / sec / 1e9;
    c.release?.();
  }
  rows.push(row);
  if (!json) process.stderr.write(`  measured ${s.name}\n`);
}
for (const c of contenders) c.release?.();

/** Ratios of each contender against JS and against the naive loop, per shape. */
function ratio(row: Row, num: string, den: string): number | null {
  const x = row.gflops[num];
  const y = row.gflops[den];
  return x != null && y != null && y > 0 ? x / y : null;
}

const names = contenders.map((c) => c.name);
const ratioPairs: [string, string][] = [["JS", "naive"]];
for (const n of names) if (n !== "naive" && n !== "JS") ratioPairs.push([n, "JS"]);
for (const n of names.filter((x) => x.startsWith("WASM")))
  for (const ref of names.filter((x) => !x.startsWith("WASM") && x !== "naive" && x !== "JS"))
    ratioPairs.push([n, ref]);

if (json) {
  const out = {
    bench: "matmul",
    unit: "GFLOP/s",
    node: process.version,
    contenders: names,
    notes,
    results: rows.map((r) => ({
      shape: r.shape,
      gflops: r.gflops,
      ratios: Object.fromEntries(ratioPairs.map(([x, y]) => [`${x}/${y}`, ratio(r, x, y)])),
    })),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
  const fmt = (v: number | null, d = 2) => (v == null ? "—" : v.toFixed(d));
  const header = ["shape", ...names, ...ratioPairs.map(([x, y]) => `${x}/${y}`)];
  const table = rows.map((r) => [
    r.shape,
    ...names.map((n) => fmt(r.gflops[n] ?? null)),
    ...ratioPairs.map(([x, y]) => `${fmt(ratio(r, x, y))}×`),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log(`matmul GFLOP/s (f32, C = A·B, median of runs; node ${process.version})`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const t of table) console.log(line(t));
  console.log("— = skipped (naive is timed up to 1024³ once; 2048³ and 4096² would take minutes)");
  for (const n of notes) console.log(`note: ${n}`);
}
