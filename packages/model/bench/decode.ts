/**
 * `pnpm bench decode [--json] [--reps N] [--presets small,medium] [--no-e2e] [--no-gemv] [--no-ref] [--no-js]
 * [--flavor simd|relaxed]`: decode at
 * the memory roofline on the WASM backend. (1) GEMV 1×4096×4096 and 1×4096×11008 ([out, in] = [4096,
 * 4096], [11008, 4096]) for every weight format (FP32, FP16, BF16, Q8_0, Q4_0, INT8 per channel and
 * per 128 inputs, INT4, NF4), the formats of one shape interleaved in the same rounds, on the default
 * WASM path and on quant's JS path (`--no-js` skips it), each with its time ×FP32 and its GB/s
 * ×roofline (the 2-thread probe of (3) read in the same rounds; its median); (2) the 1- vs 2-thread
 * GEMV crossover (FP32, NF4); (3) a STREAM-like read of a 256 MiB buffer in WASM memory (1 and 2
 * threads, ≥ 20 reads each) giving the bandwidth roofline; (4) end-to-end prefill and decode tok/s of
 * `runInfer` per preset and format. Warm-up, interleaved rounds (each starting one item later than the
 * last), medians with min–max. Not a test.
 * `--flavor` picks the WASM kernels build for the whole run (default: TRADEOFFS_WASM_FLAVOR, else simd);
 * ratios ×FP32 are within that one flavor. Last, a `machine:` line gives the CPU time other processes
 * took during the run (JSON: `load`), so a busy machine shows.
 */

import { referenceGemv } from "@tradeoffs/bench-reference";
import {
  allocateResident,
  getLedger,
  jsBackend,
  type LinearWeight,
  MemoryLedger,
  noGrad,
  parseWasmFlavor,
  Rng,
  randn,
  setWasmFlavor,
  wasmAvailable,
  wasmBackend,
  wasmFlavor,
  wasmRuntime,
  withBackend,
  withLedger,
} from "@tradeoffs/core-tensor";
import {
  bf16Format,
  Fp32Linear,
  fp16Format,
  fp32x8Format,
  int4Format,
  int8Format,
  nf4Format,
  PackedLinear,
  q4_0Format,
  q8_0Format,
  type WeightFormat,
} from "@tradeoffs/quant";
import {
  filled,
  getPreset,
  interleaved,
  loadText,
  PRESET_NAMES,
  type PresetName,
  parse,
  runInfer,
  type Spread,
  spreadOf,
  startLoadProbe,
  useFastestBackend,
} from "../src/index.js";
import { benchArgs } from "./lib/args.js";

const USAGE =
  "usage: pnpm bench decode [--json] [--reps N] [--presets small,medium] [--no-e2e] [--no-gemv] [--no-ref] [--no-js] [--flavor simd|relaxed]";
/** The command line, checked: an unknown option or a bad value is one line on stderr and exit 2. */
const args = (() => {
  const { values, fail } = benchArgs("decode", USAGE, {
    json: { type: "boolean", default: false },
    reps: { type: "string", default: "7" },
    presets: { type: "string", default: "small,medium" },
    "no-e2e": { type: "boolean", default: false },
    "no-gemv": { type: "boolean", default: false },
    "no-ref": { type: "boolean", default: false },
    "no-js": { type: "boolean", default: false },
    flavor: { type: "string" },
  });
  const reps = Number(values.reps);
  if (!(Number.isInteger(reps) && reps >= 1)) fail(`--reps '${values.reps}' must be a positive integer`);
  // executable presets whose context holds the e2e workload (tiny's 64 positions do not)
  const fit = PRESET_NAMES.filter((n) => {
    const { executable, arch } = getPreset(n);
    const [prompt, generate] = e2eShape(n);
    return executable && arch.maxSeq >= prompt + generate;
  });
  const presets = values.presets.split(",");
  for (const p of presets)
    if (!fit.includes(p as PresetName))
      fail(`--presets: '${p}' is not a preset this bench can run; use some of: ${fit.join(", ")}`);
  return { ...values, reps, presets: presets as PresetName[] };
})();
const JSON_OUT = args.json;
const REPS = args.reps;
const PRESETS = args.presets;
const E2E = !args["no-e2e"];
/** `--no-gemv` skips parts (1)–(3) (GEMV rows, crossover, bandwidth probe) so the e2e part runs alone. */
const GEMV = !args["no-gemv"];
const JS_PATH = !args["no-js"];
/** The WASM kernels build every WASM row runs on (one per process: resident weights share a runtime). */
const FLAVOR = (() => {
  try {
    const flavor = args.flavor !== undefined ? parseWasmFlavor(args.flavor, "--flavor") : wasmFlavor();
    setWasmFlavor(flavor);
    return flavor;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
})();
const log = (...s: unknown[]) => {
  if (!JSON_OUT) console.log(...s);
};

if (!wasmAvailable()) {
  console.log("WASM unavailable here: nothing to measure");
  process.exit(0);
}
useFastestBackend();

/**
 * Time each of `fns` once per round, interleaved, after `warm` untimed rounds: ms per fn. The rounds
 * are the model's `interleaved`: round r starts at fn r mod n, so no fn always runs first or right
 * after the same neighbour. That matters here: a GEMV that runs right after the 256 MiB bandwidth
 * probe is 0.2–0.4 ms slower at 4096² (measured 2026-11-28, FP32 1×4096² on 2 threads: 1.86 ms right
 * after the probe against 1.50 after another GEMV of the same layer). With a fixed order that cost
 * fell on FP32 alone, the first format, in every round, and so on every ratio ×FP32.
 */
function interleave(fns: (() => void)[], reps: number, warm = 2): Spread[] {
  const times = interleaved(fns, { repeats: reps, warmup: warm }, (f) => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  });
  return times.map(spreadOf);
}

// ---- (3) bandwidth roofline -------------------------------------------------------------------
const PROBE_BYTES = 256 << 20;
/** Reads of the probe per thread count: one read takes 5–10 ms, so many repeats are cheap and steady. */
const PROBE_REPS = Math.max(4 * REPS, 20);
let probeBuf: { address: number } | undefined;
/** One STREAM-like read of the 256 MiB probe buffer (resident in WASM memory) on 1 or 2 threads. */
function probeRead(threads: 1 | 2): () => void {
  const rt = wasmRuntime();
  if (!probeBuf) {
    const buf = allocateResident(rt, new MemoryLedger(), "tmp/probe", "u8", PROBE_BYTES)!; // far below 4 GiB
    (buf.data as Uint8Array).fill(1); // touch every page
    probeBuf = buf; // kept for the GEMV rounds (read side by side with them); freed with the process
  }
  const at = probeBuf.address;
  const half = PROBE_BYTES / 2;
  return threads === 1
    ? () => rt.run("readSum", [[at, PROBE_BYTES]])
    : () =>
        rt.run("readSum", [
          [at, half],
          [at + half, half],
        ]);
}
/** GB/s of one probe read from its time spread (min GB/s from the slowest read). */
const probeGbs = (s: Spread): Spread => ({
  median: PROBE_BYTES / 1e6 / s.median,
  min: PROBE_BYTES / 1e6 / s.max,
  max: PROBE_BYTES / 1e6 / s.min,
  n: s.n,
});
function bandwidth(): { threads: number; gbs: Spread }[] {
  const [one, two] = interleave([probeRead(1), probeRead(2)], PROBE_REPS, 3);
  return [
    { threads: 1, gbs: probeGbs(one!) },
    { threads: 2, gbs: probeGbs(two!) },
  ];
}

// ---- (1) GEMV per format ----------------------------------------------------------------------
interface GemvRow {
  shape: string;
  format: string;
  path: "wasm" | "js";
  ms: number;
  msMin: number;
  msMax: number;
  gflops: number;
  gbps: number;
  /** Median time over FP32's on the same path and shape (fewer bytes read should mean < 1). */
  vsFp32: number;
  /** Achieved GB/s over the bandwidth roofline (1 = reading the weight at the probe's speed). */
  vsRoofline: number;
  /** The roofline `vsRoofline` divides by: WASM rows, the 2-thread probe's median in the same rounds. */
  rooflineGBs: number;
}
type Maker = (w: ReturnType<typeof randn>, path: "wasm" | "js") => LinearWeight;
const packed =
  (f: WeightFormat): Maker =>
  (w, path) =>
    path === "wasm"
      ? withBackend(
          wasmBackend(2),
          () => new PackedLinear(f, w, "weights/bench", { backend: wasmBackend(2) }),
        )
      : new PackedLinear(f, w, "weights/bench", { backend: jsBackend });
const FORMATS: [string, Maker][] = [
  [
    "FP32",
    (w, path) =>
      withBackend(path === "wasm" ? wasmBackend(2) : jsBackend, () => new Fp32Linear(w, "weights/bench")),
  ],
  // FP32's values in the tiled layout of its decode GEMV (one W stream, x in L1): same bytes, frozen
  ["FP32x8", packed(fp32x8Format)],
  ["FP16", packed(fp16Format)],
  ["BF16", packed(bf16Format)],
  ["Q8_0", packed(q8_0Format)],
  ["Q4_0", packed(q4_0Format)],
  ["INT8", packed(int8Format({ group: 0 }))],
  // INT8 with one f32 scale per 128 inputs: its own kernel path (gemv.ts rowsI8One with group scales)
  ["INT8[group=128]", packed(int8Format({ group: 128 }))],
  ["INT4[group=32]", packed(int4Format({ group: 32 }))],
  ["NF4", packed(nf4Format({ block: 64, dq: true }))],
];

/**
 * Per shape and path, every format's layer timed in the same interleaved rounds (so the ratios to
 * FP32 compare like with like): ms median (min–max), GB/s of the weight's bytes, ×FP32, ×roofline.
 */
function gemv(roof: number): GemvRow[] {
  const rows: GemvRow[] = [];
  const rng = new Rng(1);
  const paths = JS_PATH ? (["wasm", "js"] as const) : (["wasm"] as const);
  for (const [N, K] of [
    [4096, 4096],
    [11008, 4096],
  ] as const) {
    const w = randn([N, K], rng, { std: 0.02 });
    const x = randn([1, K], rng);
    for (const path of paths) {
      const backend = path === "wasm" ? wasmBackend(2) : jsBackend;
      const layers = FORMATS.map(([name, make]) => ({ name, l: make(w, path) }));
      // The JS path is 5–20× slower than WASM: a third of the rounds. On the WASM path the 2-thread
      // bandwidth probe runs in the same rounds, so each shape's ×roofline divides by a roofline
      // measured under the same machine load as its GEMVs (not minutes earlier).
      const fns = layers.map(
        ({ l }) =>
          () =>
            withBackend(backend, () => l.apply(x).dispose()),
      );
      if (path === "wasm") fns.push(probeRead(2));
      const times = interleave(fns, path === "wasm" ? REPS : Math.max(3, Math.ceil(REPS / 3)));
      const fp32 = times[0]!.median;
      const probe = path === "wasm" ? probeGbs(times[layers.length]!) : undefined;
      const shapeRoof = probe?.median ?? roof;
      log(
        `\nGEMV 1x${K}x${N}, ${path === "wasm" ? "WASM (2 threads)" : "JS path"}: ms median (min–max), GB/s of the stored weight, time ×FP32, GB/s ×roofline (${shapeRoof.toFixed(1)} GB/s${probe ? `: 2-thread probe median in these rounds, ${probe.min.toFixed(1)}–${probe.max.toFixed(1)}` : ""})`,
      );
      layers.forEach(({ name, l }, i) => {
        const s = times[i]!;
        const gbps = l.bytes / 1e6 / s.median;
        const row: GemvRow = {
          shape: `1x${K}x${N}`,
          format: name,
          path,
          ms: s.median,
          msMin: s.min,
          msMax: s.max,
          gflops: (2 * N * K) / 1e6 / s.median,
          gbps,
          vsFp32: s.median / fp32,
          vsRoofline: gbps / shapeRoof,
          rooflineGBs: shapeRoof,
        };
        rows.push(row);
        const ms = `${row.ms.toFixed(2).padStart(7)} ms (${row.msMin.toFixed(2)}–${row.msMax.toFixed(2)})`;
        log(
          `  ${name.padEnd(16)} ${ms.padEnd(28)} ${row.gbps.toFixed(1).padStart(5)} GB/s  ×FP32 ${row.vsFp32.toFixed(2).padStart(5)}  ×roofline ${row.vsRoofline.toFixed(2)}`,
        );
        l.dispose();
      });
    }
    w.dispose();
    x.dispose();
  }
  return rows;
}

// ---- (2) thread crossover ---------------------------------------------------------------------
/**
 * 1 vs 2 threads for a square GEMV, FP32 (memory-bound) and NF4 (compute-bound): where the second
 * thread starts to pay (core-tensor's GEMV_F32_SPLIT_MIN_WORK for FP32, GEMV_SPLIT_MIN_WORK for packed formats).
 */
function crossover(): { format: string; n: number; k: number; ms1: number; ms2: number }[] {
  const out: { format: string; n: number; k: number; ms1: number; ms2: number }[] = [];
  const rng = new Rng(2);
  for (const [format, make] of [FORMATS[0]!, FORMATS[FORMATS.length - 1]!]) {
    // 1440, not 1448 (√2·1024): a width that is not a multiple of 32 keeps NF4 on quant's JS GEMV
    // (one thread whatever the backend), so its row would not show the kernel's crossover.
    for (const d of [512, 1024, 1440, 2048, 3072, 4096]) {
      const w = randn([d, d], rng, { std: 0.02 });
      const x = randn([1, d], rng);
      // Packed at 2 threads (resident in the shared runtime); applied under each thread count.
      const l = withBackend(wasmBackend(2), () =>
        format === "FP32" ? make(w, "wasm") : new PackedLinear(nf4Format(), w, "weights/bench"),
      );
      const [t1, t2] = interleave(
        [1, 2].map((t) => () => withBackend(wasmBackend(t), () => l.apply(x).dispose())),
        REPS * 10,
        10,
      );
      out.push({ format, n: d, k: d, ms1: t1!.median, ms2: t2!.median });
      log(
        `GEMV ${format} 1x${d}x${d}: 1 thread ${t1!.median.toFixed(4)} ms, 2 threads ${t2!.median.toFixed(4)} ms`,
      );
      l.dispose();
      w.dispose();
      x.dispose();
    }
  }
  return out;
}

// ---- (4) end to end ---------------------------------------------------------------------------
const E2E_CONFIGS = ["Baseline", "INT8", "Q8_0", "Q4_0", "NF4"];
interface E2eRow {
  preset: string;
  config: string;
  prefillTokS: Spread;
  decodeTokS: Spread;
}
/**
 * Prompt, generated tokens and rounds of a preset's e2e rows: small, the issue's workload (64-token
 * prompt, 128 greedy steps); medium a short one (3.4 GB read per token).
 */
function e2eShape(preset: PresetName): [prompt: number, generate: number, rounds: number] {
  return preset === "medium" ? [32, 9, 3] : [64, 128, 5];
}
function e2e(): E2eRow[] {
  const rows: E2eRow[] = [];
  for (const preset of PRESETS) {
    const [prompt, generate, rounds] = e2eShape(preset);
    const specs = E2E_CONFIGS.map((c) => ({ model: preset, config: filled(parse(c)) }));
    // one warm-up run of each, then rotating rounds (as `interleave`)
    const runs = interleaved(specs, { repeats: rounds, warmup: 1 }, (spec) =>
      runInfer(spec, { batch: 1, prompt, generate }),
    );
    specs.forEach((_, i) => {
      const row = {
        preset,
        config: E2E_CONFIGS[i]!,
        prefillTokS: spreadOf(runs[i]!.map((r) => r.prefillTokensPerSec)),
        decodeTokS: spreadOf(runs[i]!.map((r) => r.decodeTokensPerSec)),
      };
      rows.push(row);
      const f = (s: Spread) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
      log(
        `${preset.padEnd(7)} ${row.config.padEnd(9)} prefill ${f(row.prefillTokS)} tok/s   decode ${f(row.decodeTokS)} tok/s`,
      );
    });
  }
  return rows;
}

// How busy the machine was over the whole run (other processes' CPU time; printed last).
const measuring = startLoadProbe();
// Reference GEMV rows (tfjs-wasm, onnxruntime-node 1/2 threads; part of (1), so `--no-gemv` skips them too);
// installs those runtimes on first use.
const reference = await referenceGemv({ reps: REPS, log, skip: !GEMV || args["no-ref"] });
noGrad(() =>
  withLedger(getLedger(), () => {
    log(
      `decode bench on WASM (2 threads, flavor ${FLAVOR}), ${REPS} interleaved rounds after warm-up, each starting one item later; medians (min–max)`,
    );
    const bw = GEMV ? bandwidth() : [];
    for (const b of bw)
      log(
        `bandwidth (256 MiB read, ${b.threads} thread, ${PROBE_REPS} reads): median ${b.gbs.median.toFixed(2)} GB/s (${b.gbs.min.toFixed(2)}–${b.gbs.max.toFixed(2)})`,
      );
    const roof = Math.max(...bw.map((b) => b.gbs.median));
    if (GEMV)
      log(
        `roofline: ${roof.toFixed(2)} GB/s (the larger median) → FP32 GEMV 1x4096x4096 (67.1 MB) floor ${(67.1 / roof).toFixed(2)} ms; each GEMV table re-measures it in its own rounds`,
      );
    const cross = GEMV ? crossover() : [];
    const g = GEMV ? gemv(roof) : [];
    const decode = E2E ? e2e() : [];
    const load = measuring();
    if (load) log(`machine: ${loadText(load)}`);
    if (JSON_OUT) {
      console.log(
        JSON.stringify(
          {
            wasmFlavor: FLAVOR,
            gemv: g,
            references: reference,
            bandwidthGBs: roof,
            bandwidth: bw,
            crossover: cross,
            decode,
            load,
          },
          null,
          2,
        ),
      );
    }
  }),
);
