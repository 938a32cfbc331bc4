/**
 * Reference rows for `pnpm bench decode`: the decode-shaped GEMVs 1×4096×4096 and 1×4096×11008 on
 * tfjs-wasm (1 thread) and onnxruntime-node (1 and 2 threads), timed like the bench's own rows
 * (warm-up, interleaved rounds, median with min–max). Not a correctness check of those libraries.
 */
import { onnxRuntime, type PreparedMatmul, type ReferenceMatmul, tfjsWasm } from "./matmul.js";

/** One library on one shape: x [1, k] · W [k, n], f32. */
export interface ReferenceGemvRow {
  /** `1x<k>x<n>`, as the decode bench names its shapes. */
  shape: string;
  library: string;
  threads: number;
  ms: number;
  msMin: number;
  msMax: number;
  gflops: number;
  /** f32 weight bytes read per product (4·k·n) over the median time. */
  gbps: number;
}

/** The rows, and one note per library (which kernel ran, or why it was skipped). */
export interface ReferenceGemv {
  rows: ReferenceGemvRow[];
  notes: string[];
}

const SHAPES = [
  [4096, 4096],
  [4096, 11008],
] as const;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/**
 * Measures the reference GEMVs, installing the runtimes first when missing. `skip` (the bench's
 * `--no-ref`) returns no rows; a failed install or load is a note, never a failed bench.
 */
export async function referenceGemv(options: {
  reps: number;
  log: (line: string) => void;
  skip?: boolean;
}): Promise<ReferenceGemv> {
  const { reps, log } = options;
  if (options.skip === true) return { rows: [], notes: ["reference rows skipped (--no-ref)"] };
  const notes: string[] = [];
  const libs: { lib: ReferenceMatmul; threads: number }[] = [];
  for (const [make, threads] of [
    [tfjsWasm, 1],
    [() => onnxRuntime(1), 1],
    [() => onnxRuntime(2), 2],
  ] as const) {
    try {
      const lib = await make();
      libs.push({ lib, threads });
      notes.push(`${lib.name}: ${lib.kernel}`);
    } catch (e) {
      notes.push(`reference skipped: ${message(e)}`);
    }
  }
  for (const n of notes) log(n);
  const rows: ReferenceGemvRow[] = [];
  let seed = 0x2545f491;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return ((seed >>> 0) / 2 ** 32) * 2 - 1;
  };
  for (const [k, n] of SHAPES) {
    const x = new Float32Array(k).map(rand);
    const w = new Float32Array(k * n).map(() => rand() * 0.02);
    const prepared: { lib: ReferenceMatmul; threads: number; p: PreparedMatmul; t: number[] }[] = [];
    for (const { lib, threads } of libs)
      prepared.push({ lib, threads, p: await lib.prepare(x, w, 1, k, n), t: [] });
    const warm = 2;
    // Round r starts at contender r mod n: none always runs first or after the same neighbour.
    for (let r = 0; r < warm + reps; r++) {
      for (let j = 0; j < prepared.length; j++) {
        const c = prepared[(r + j) % prepared.length]!;
        const t0 = performance.now();
        await c.p.run();
        const dt = performance.now() - t0;
        if (r >= warm) c.t.push(dt);
      }
    }
    for (const c of prepared) {
      c.p.dispose();
      const s = [...c.t].sort((a, b) => a - b);
      const mid = s.length >> 1;
      const ms = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
      const row: ReferenceGemvRow = {
        shape: `1x${k}x${n}`,
        library: c.lib.name,
        threads: c.threads,
        ms,
        msMin: s[0]!,
        msMax: s[s.length - 1]!,
        gflops: (2 * k * n) / 1e6 / ms,
        gbps: (4 * k * n) / 1e6 / ms,
      };
      rows.push(row);
      log(
        `${row.shape.padEnd(12)} reference ${row.library.padEnd(10)} ${row.ms.toFixed(2).padStart(7)} ms (${row.msMin.toFixed(2)}–${row.msMax.toFixed(2)}) ${row.gflops.toFixed(1).padStart(5)} GFLOP/s ${row.gbps.toFixed(1).padStart(5)} GB/s`,
      );
    }
  }
  for (const { lib } of libs) lib.dispose();
  return { rows, notes };
}
