/**
 * `pnpm bench checkpoint [--json] [--quick] [--reps N]`: for L = 4, 8, 16, 32 residual blocks of the
 * small model's width (d=256, hidden 768) on batch 4 × seq 32 tokens, the ledger's peak `act` bytes and
 * the train-step time (forward + backward, median of N interleaved runs; CPU time of this process,
 * which other load on the machine disturbs less than wall time, and wall time) per checkpoint policy,
 * relative to `None`, beside the memory model's prediction. Not a test: nothing is asserted.
 */
import { getLedger, Rng, randn, type Strategy } from "@tradeoffs/core-tensor";
import {
  ckpt,
  describeSegments,
  none,
  predictPeakAct,
  recomputeFactor,
  type Segments,
} from "../src/index.js";
import { measureLayerBytes, ResidualStack } from "../test/synthetic-stack.js";

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const quick = argv.includes("--quick");
const repsAt = argv.indexOf("--reps");
const REPS = repsAt >= 0 ? Number(argv[repsAt + 1]) : 3;
const WIDTH = 256;
const HIDDEN = 768;
const BATCH = 4;
// Adjusted down from the small model's seq 64: at 32 one full run is ~100 s of CPU on the 2-core machine.
const SEQ = 32;
const DEPTHS = quick ? [4, 8] : [4, 8, 16, 32];

interface Row {
  layers: number;
  policy: string;
  segments: string;
  predictedPeakAct: number;
  measuredPeakAct: number;
  peakVsNone: number;
  extraForward: number;
  /** Median process CPU ms (user + system) of one step. */
  stepCpuMs: number;
  /** Median wall-clock ms of one step. */
  stepWallMs: number;
  /** stepCpuMs / None's. */
  timeVsNone: number;
  /** sqrt only: the bound 2√L/L · None + one layer's saved bytes. */
  sqrtBound?: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const rows: Row[] = [];
const started = performance.now();
for (const L of DEPTHS) {
  const ledger = getLedger();
  const stack = new ResidualStack({ layers: L, width: WIDTH, hidden: HIDDEN, seed: L });
  const rng = new Rng(1);
  // Tokens flattened to rows: x, dy [B·T, d].
  const x = randn([BATCH * SEQ, WIDTH], rng);
  const dy = randn([BATCH * SEQ, WIDTH], rng);
  const { act, input } = measureLayerBytes(stack, x);
  const nonePeak = predictPeakAct(L, act, input, []);
  const policies: Strategy<"checkpoint">[] = [
    none(),
    ckpt({ every: 2 }),
    ckpt({ policy: "sqrt" }),
    ckpt({ policy: "all" }),
    ckpt({ budget: Math.floor(nonePeak / 2 / 1024) * 1024 }),
  ];
  const schedules = policies.map((p) => p.exec.segments(L, act, input));
  const cpu: number[][] = policies.map(() => []);
  const wall: number[][] = policies.map(() => []);
  const peaks: number[] = policies.map(() => 0);
  const run = (segs: Segments): { cpuMs: number; wallMs: number; peak: number } => {
    const base = ledger.live("act");
    ledger.resetPeak();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    stack.step(x, dy, segs);
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    stack.zeroGrad();
    return { cpuMs: (c.user + c.system) / 1000, wallMs, peak: ledger.peak("act") - base };
  };
  run(schedules[0]!); // warm-up (JIT)
  for (let r = 0; r < REPS; r++) {
    // Interleaved so that drift (GC, thermal) hits every policy alike.
    for (let i = 0; i < policies.length; i++) {
      const { cpuMs, wallMs, peak } = run(schedules[i]!);
      cpu[i]!.push(cpuMs);
      wall[i]!.push(wallMs);
      peaks[i] = Math.max(peaks[i]!, peak);
    }
  }
  const noneMs = median(cpu[0]!);
  const noneMeasured = peaks[0]!;
  for (let i = 0; i < policies.length; i++) {
    const segs = schedules[i]!;
    const stepCpuMs = median(cpu[i]!);
    const row: Row = {
      layers: L,
      policy: policies[i]!.label,
      segments: describeSegments(L, segs),
      predictedPeakAct: predictPeakAct(L, act, input, segs),
      measuredPeakAct: peaks[i]!,
      peakVsNone: peaks[i]! / noneMeasured,
      extraForward: recomputeFactor(L, segs),
      stepCpuMs,
      stepWallMs: median(wall[i]!),
      timeVsNone: stepCpuMs / noneMs,
    };
    if (policies[i]!.options.policy === "sqrt") row.sqrtBound = ((2 * Math.sqrt(L)) / L) * noneMeasured + act;
    rows.push(row);
  }
  x.dispose();
  dy.dispose();
  stack.dispose();
}
const totalSeconds = (performance.now() - started) / 1000;

const config = { width: WIDTH, hidden: HIDDEN, batch: BATCH, seq: SEQ, reps: REPS, depths: DEPTHS };
if (json) {
  process.stdout.write(`${JSON.stringify({ bench: "checkpoint", config, totalSeconds, rows })}\n`);
} else {
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  const header = [
    "L",
    "policy",
    "segments",
    "pred act MiB",
    "meas act MiB",
    "act/None",
    "extra fwd",
    "cpu ms",
    "wall ms",
    "cpu/None",
  ];
  const body = rows.map((r) => [
    String(r.layers),
    r.policy,
    r.segments,
    mib(r.predictedPeakAct),
    mib(r.measuredPeakAct),
    `${r.peakVsNone.toFixed(3)}${r.sqrtBound !== undefined ? (r.measuredPeakAct <= r.sqrtBound ? " ✓" : " ✗") : ""}`,
    `+${(r.extraForward * 100).toFixed(0)}%`,
    r.stepCpuMs.toFixed(0),
    r.stepWallMs.toFixed(0),
    `${r.timeVsNone.toFixed(2)}×`,
  ]);
  const w = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((s, c) => (c >= 1 && c <= 2 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join("  ");
  console.log(
    `checkpoint: residual blocks x + W2·silu(W1·rmsNorm(x)), d=${WIDTH}, hidden ${HIDDEN}, ${BATCH}×${SEQ} tokens, median of ${REPS}`,
  );
  console.log(line(header));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const b of body) console.log(line(b));
  console.log(
    `✓/✗: sqrt measured act ≤ 2√L/L · None + one layer's saved bytes. Budget = half of None's predicted peak. ${totalSeconds.toFixed(0)} s.`,
  );
}
