/**
 * `pnpm bench matmul [--json] [--quick] [--shape 1024³] [--flavor simd|relaxed|both]`: GFLOP/s of C = A·B
 * (f32, row-major) for every contender in one run: the naive triple loop (oracle), the JS backend's
 * blocked GEMM, and — when available — the WASM backend on 1 and 2 threads and the reference libraries
 * of `tooling/bench-reference`. `--flavor` picks the WASM kernels build (default: TRADEOFFS_WASM_FLAVOR,
 * else simd); `both` adds WASM-1t-relaxed and WASM-2t-relaxed (a private relaxed runtime) beside the simd
 * contenders, each measured right after its simd twin in the same run, with their ratio.
 * `--shape` keeps one row (names as printed, e.g. 1024³ or 1024^3).
 * Not a test: nothing is asserted; figures depend on the machine.
 */
import { loadavg } from "node:os";
import {
  type MatmulArgs,
  matmulArgs,
  matmulBlocked,
  matmulNaive,
  parseWasmFlavor,
  setWasmFlavor,
  WasmRuntime,
  wasmAvailable,
  wasmBackend,
  wasmFlavor,
  wasmMatmul,
  wasmUnavailableReason,
} from "../src/index.js";

interface Shape {
  readonly name: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

type Run = { run: () => void | Promise<void>; dispose?: () => void };

/** A contender multiplies row-major A [m,k] by B [k,n] into C [m,n]; `prepare` may copy operands in. */
interface Contender {
  readonly name: string;
  /** Skip shapes whose m·k·n exceeds this (the naive loop is far too slow at 2048³). */
  readonly maxWork?: number;
  /** Threads it computes on (CPU time is divided by this for the per-core figure). */
  readonly threads: number;
  prepare(a: Float32Array, b: Float32Array, s: Shape): Promise<Run> | Run;
  release?(): void;
}

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const noRef = process.argv.includes("--no-ref");
const opt = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? "") : undefined;
};
const onlyShape = opt("--shape")?.replace("^3", "³");
/** The WASM kernels build the WASM contenders run (one per process); `both`: simd, plus relaxed twins. */
const both = opt("--flavor") === "both";
const flavor = (() => {
  try {
    const f = opt("--flavor");
    const chosen = both ? "simd" : f === undefined ? wasmFlavor() : parseWasmFlavor(f, "--flavor");
    setWasmFlavor(chosen);
    return chosen;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
})();

const SHAPES: Shape[] = [
  { name: "256³", m: 256, k: 256, n: 256 },
  { name: "512³", m: 512, k: 512, n: 512 },
  { name: "1024³", m: 1024, k: 1024, n: 1024 },
  { name: "2048³", m: 2048, k: 2048, n: 2048 },
  { name: "1×4096×4096", m: 1, k: 4096, n: 4096 },
  { name: "64×4096×4096", m: 64, k: 4096, n: 4096 },
];

function args(a: Float32Array, b: Float32Array, c: Float32Array, s: Shape): MatmulArgs {
  return matmulArgs(s.m, s.n, s.k, a, b, c);
}

function kernelContender(
  name: string,
  fn: (p: MatmulArgs) => void,
  threads = 1,
  maxWork?: number,
): Contender {
  return {
    name,
    threads,
    ...(maxWork !== undefined ? { maxWork } : {}),
    prepare: (a, b, s) => {
      const c = new Float32Array(s.m * s.n);
      const p = args(a, b, c, s);
      return { run: () => fn(p) };
    },
  };
}

interface Timing {
  /** Median wall seconds per run. */
  readonly wall: number;
  /** Process CPU seconds per run (all threads), over the timed runs. */
  readonly cpu: number;
}

/** Median wall seconds of `run` over repeats within ~`budget` s (at least `min` runs), and CPU time. */
async function time(run: () => void | Promise<void>, budget: number, min = 3): Promise<Timing> {
  await run(); // warm-up (JIT and wasm tier-up, packing buffers, worker start)
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (times.length < min || (performance.now() - start < budget * 1000 && times.length < 50)) {
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1000);
    // One slow run is enough for a slow contender.
    if (times[0]! > budget) break;
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((x, y) => x - y);
  return { wall: times[Math.floor(times.length / 2)]!, cpu: (cpu.user + cpu.system) / 1e6 / times.length };
}

async function loadContenders(): Promise<{ contenders: Contender[]; notes: string[] }> {
  const notes: string[] = [];
  const contenders: Contender[] = [
    // The naive loop: 1024³ is timed once (~5 s); 2048³ and the 4096² decode shapes are skipped.
    kernelContender("naive", matmulNaive, 1, 1024 ** 3),
    kernelContender("JS", matmulBlocked),
  ];
  if (wasmAvailable()) {
    const relaxed = both ? new WasmRuntime("relaxed") : undefined;
    for (const t of [1, 2]) {
      contenders.push(kernelContender(`WASM-${t}t`, wasmBackend(t).matmul, t));
      if (relaxed)
        contenders.push(kernelContender(`WASM-${t}t-relaxed`, (p) => wasmMatmul(relaxed, p, t), t));
    }
  } else notes.push(`WASM skipped: ${wasmUnavailableReason()}`);
  if (!noRef) {
    // Reference libraries from the private bench package, installed on first use into
    // node_modules/.cache/tradeoffs-bench (not by pnpm install); the bench degrades gracefully without them.
    try {
      const ref = await import("../../../tooling/bench-reference/src/index.js");
      for (const [make, threads] of [
        [() => ref.tfjsWasm(), 1],
        [() => ref.onnxRuntime(1), 1],
        [() => ref.onnxRuntime(2), 2],
      ] as const) {
        try {
          const r = await make();
          notes.push(`${r.name}: ${r.kernel}`);
          contenders.push({
            name: r.name,
            threads,
            prepare: (a, b, s) => r.prepare(a, b, s.m, s.k, s.n),
            release: () => r.dispose(),
          });
        } catch (e) {
          notes.push(`reference skipped: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
        }
      }
    } catch (e) {
      notes.push(
        `reference libraries unavailable (tooling/bench-reference failed to load): ${String(e).split("\n")[0]}`,
      );
    }
  }
  return { contenders, notes };
}

const { contenders, notes } = await loadContenders();
const shapes = SHAPES.filter(
  (s) => (!quick || s.m * s.k * s.n <= 512 ** 3) && (onlyShape === undefined || s.name === onlyShape),
);
if (shapes.length === 0) {
  console.error(`--shape '${onlyShape}' is not one of: ${SHAPES.map((s) => s.name).join(", ")}`);
  process.exit(2);
}
const rng = (() => {
  let x = 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  };
})();

type Row = {
  shape: string;
  gflops: Record<string, number | null>;
  gflopsCpu: Record<string, number | null>;
};
const rows: Row[] = [];
const load0 = loadavg()[0]!;
for (const s of shapes) {
  const a = new Float32Array(s.m * s.k).map(rng);
  const b = new Float32Array(s.k * s.n).map(rng);
  const flops = 2 * s.m * s.n * s.k;
  const row: Row = { shape: s.name, gflops: {}, gflopsCpu: {} };
  for (const c of contenders) {
    if (c.maxWork !== undefined && s.m * s.k * s.n > c.maxWork) {
      row.gflops[c.name] = null;
      row.gflopsCpu[c.name] = null;
      continue;
    }
    const prepared = await c.prepare(a, b, s);
    const big = s.m * s.k * s.n >= 1024 ** 3;
    const t = await time(prepared.run, big ? 3 : 1, c.name === "naive" && big ? 1 : 3);
    prepared.dispose?.();
    row.gflops[c.name] = flops / t.wall / 1e9;
    // Projected on idle cores: flops / (CPU seconds / threads). What the wall figure would be if each
    // thread had a core to itself (robust to a busy machine; waits are not CPU time).
    row.gflopsCpu[c.name] = flops / (t.cpu / c.threads) / 1e9;
  }
  rows.push(row);
  if (!json) process.stderr.write(`  measured ${s.name}\n`);
}
for (const c of contenders) c.release?.();
const load1 = loadavg()[0]!;

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
for (const n of names.filter((x) => x.endsWith("-relaxed")))
  ratioPairs.push([n, n.slice(0, -"-relaxed".length)]);

if (json) {
  const out = {
    bench: "matmul",
    unit: "GFLOP/s",
    node: process.version,
    wasmFlavor: both ? "both" : flavor,
    contenders: names,
    notes,
    loadAverage: { start: load0, end: load1 },
    results: rows.map((r) => ({
      shape: r.shape,
      gflops: r.gflops,
      gflopsCpu: r.gflopsCpu,
      ratios: Object.fromEntries(ratioPairs.map(([x, y]) => [`${x}/${y}`, ratio(r, x, y)])),
    })),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
  const fmt = (v: number | null, d = 2) => (v == null ? "—" : v.toFixed(d));
  const print = (title: string, pick: (r: Row) => Record<string, number | null>, withRatios: boolean) => {
    const pairs = withRatios ? ratioPairs : [];
    const header = ["shape", ...names, ...pairs.map(([x, y]) => `${x}/${y}`)];
    const table = rows.map((r) => [
      r.shape,
      ...names.map((n) => fmt(pick(r)[n] ?? null)),
      ...pairs.map(([x, y]) => {
        const v = ratio({ ...r, gflops: pick(r) }, x, y);
        return v == null ? "—" : `${fmt(v)}×`;
      }),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
    console.log(title);
    console.log(line(header));
    console.log(widths.map((w) => "-".repeat(w)).join("  "));
    for (const t of table) console.log(line(t));
  };
  print(
    `matmul GFLOP/s, wall clock (f32, C = A·B, median; node ${process.version}; WASM flavor ${both ? "simd, and relaxed twins" : flavor})`,
    (r) => r.gflops,
    true,
  );
  console.log("");
  print(
    "GFLOP/s projected on idle cores = flops / (CPU-seconds / threads): robust to a busy machine",
    (r) => r.gflopsCpu,
    true,
  );
  console.log(`load average (1 min): ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end`);
  console.log("— = skipped (naive is timed up to 1024³ once; 2048³ would take minutes)");
  for (const n of notes) console.log(`note: ${n}`);
}
