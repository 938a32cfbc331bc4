/**
 * Standard vs Flash attention, side by side in one run: peak `tmp` bytes from the ledger and median
 * wall time, forward and forward+backward, causal, headDim 64, batch 1, one head and 8 heads, seq
 * 512…4096. Also the `act` bytes the forward saves for backward. `--json` prints one JSON object.
 * Repetitions shrink with size to keep the run near 3 minutes (see REPS).
 */
import { getLedger, grad, Rng, randn, scope, type Tensor } from "@tradeoffs/core-tensor";
import { flashAttention } from "../src/flash.js";
import { standardAttention } from "../src/standard.js";

const json = process.argv.includes("--json");
const seqArg = process.argv.find((a) => a.startsWith("--seqs="));
/** `--seqs=256,512` for a quick look; the issue's sizes by default. */
const SEQS = seqArg ? seqArg.slice(7).split(",").map(Number) : [512, 1024, 2048, 4096];
const HEADS = [1, 8];
const D = 64;
const BLOCK = 64;
/** Timed repetitions by total work (heads·seq²): the 8-head 4096 and 2048 cases run once. */
function reps(heads: number, seq: number): number {
  const work = heads * seq * seq;
  return work >= 8 * 2048 * 2048 ? 1 : work >= 4096 * 4096 ? 2 : 3;
}

type Attend = (q: Tensor, k: Tensor, v: Tensor) => Tensor;
const variants: [string, Attend][] = [
  ["Standard", (q, k, v) => standardAttention(q, k, v, { causal: true })],
  ["Flash", (q, k, v) => flashAttention(q, k, v, { causal: true, blockQ: BLOCK, blockK: BLOCK })],
];

interface Run {
  fwdMs: number;
  bwdMs: number;
  /** CPU time (user + system) of the forward / the whole step: steadier than wall time on a shared machine. */
  fwdCpuMs: number;
  cpuMs: number;
  /** Peak tmp above the start during the forward / during forward+backward. */
  fwdTmp: number;
  totalTmp: number;
  /** act the forward added (what attention saves for backward). */
  act: number;
}

/** One training step of attention: forward, then backward under a fixed output gradient. */
function runOnce(attend: Attend, heads: number, seq: number): Run {
  return scope(() => {
    const rng = new Rng(seq + heads);
    // Inputs live in `act` (in a model they are saved by the projections anyway), so the `act`
    // delta below is what attention itself saves.
    const q = randn([1, heads, seq, D], rng, { category: "act", requiresGrad: true });
    const k = randn([1, heads, seq, D], rng, { category: "act", requiresGrad: true });
    const v = randn([1, heads, seq, D], rng, { category: "act", requiresGrad: true });
    const dO = randn([1, heads, seq, D], rng, { category: "grad" });
    const ledger = getLedger();
    const tmp0 = ledger.live("tmp");
    const act0 = ledger.live("act");
    let fwdMs = 0;
    let bwdMs = 0;
    let fwdTmp = 0;
    let act = 0;
    let fwdCpuMs = 0;
    const c0 = process.cpuUsage();
    const m = ledger.measure(() => {
      const t0 = performance.now();
      const o = attend(q, k, v);
      const t1 = performance.now();
      const cf = process.cpuUsage(c0);
      fwdCpuMs = (cf.user + cf.system) / 1000;
      fwdTmp = ledger.peak("tmp") - tmp0;
      act = ledger.live("act") - act0;
      const gs = grad(o, [q, k, v], { grad: dO });
      bwdMs = performance.now() - t1;
      fwdMs = t1 - t0;
      for (const g of gs) g?.dispose();
      o.dispose();
    });
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    return { fwdMs, bwdMs, fwdCpuMs, cpuMs, fwdTmp, totalTmp: m.peakAbove.tmp ?? 0, act };
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

// Warm the JIT on both paths before timing.
for (let i = 0; i < 3; i++) for (const [, f] of variants) runOnce(f, 2, 256);

interface Row {
  heads: number;
  seq: number;
  pass: "forward" | "forward+backward";
  reps: number;
  standard: { tmpBytes: number; actBytes: number; ms: number; cpuMs: number };
  flash: { tmpBytes: number; actBytes: number; ms: number; cpuMs: number };
  tmpRatio: number;
  /** Flash / Standard median wall time. */
  timeRatio: number;
  /** Flash / Standard median CPU time. */
  cpuRatio: number;
}
const rows: Row[] = [];
const started = performance.now();
for (const heads of HEADS) {
  for (const seq of SEQS) {
    const n = reps(heads, seq);
    // Standard and Flash alternate rep by rep, so load from other jobs hits both alike.
    const runs: Run[][] = variants.map(() => []);
    for (let r = 0; r < n; r++)
      for (const [i, [, f]] of variants.entries()) runs[i]!.push(runOnce(f, heads, seq));
    const byVariant = runs.map((rs) => {
      const first = rs[0]!;
      return {
        fwd: {
          tmpBytes: first.fwdTmp,
          actBytes: first.act,
          ms: median(rs.map((r) => r.fwdMs)),
          cpuMs: median(rs.map((r) => r.fwdCpuMs)),
        },
        all: {
          tmpBytes: first.totalTmp,
          actBytes: first.act,
          ms: median(rs.map((r) => r.fwdMs + r.bwdMs)),
          cpuMs: median(rs.map((r) => r.cpuMs)),
        },
      };
    });
    const [s, f] = byVariant as [(typeof byVariant)[0], (typeof byVariant)[0]];
    for (const pass of ["forward", "forward+backward"] as const) {
      const a = pass === "forward" ? s.fwd : s.all;
      const b = pass === "forward" ? f.fwd : f.all;
      rows.push({
        heads,
        seq,
        pass,
        reps: n,
        standard: a,
        flash: b,
        tmpRatio: a.tmpBytes / b.tmpBytes,
        timeRatio: b.ms / a.ms,
        cpuRatio: b.cpuMs / a.cpuMs,
      });
    }
    if (!json) process.stderr.write(`  done heads=${heads} seq=${seq}\n`);
  }
}
const seconds = (performance.now() - started) / 1000;

if (json) {
  process.stdout.write(
    `${JSON.stringify({
      bench: "attention",
      headDim: D,
      batch: 1,
      causal: true,
      block: BLOCK,
      node: process.version,
      seconds: Number(seconds.toFixed(1)),
      rows,
    })}\n`,
  );
} else {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const head = [
    "heads",
    "seq",
    "pass",
    "reps",
    "Std tmp",
    "Flash tmp",
    "tmp ×",
    "Std act",
    "Flash act",
    "Std ms",
    "Flash ms",
    "Flash/Std time",
    "(CPU)",
  ];
  const body = rows.map((r) => [
    String(r.heads),
    String(r.seq),
    r.pass,
    String(r.reps),
    mib(r.standard.tmpBytes),
    mib(r.flash.tmpBytes),
    `${r.tmpRatio.toFixed(1)}×`,
    mib(r.standard.actBytes),
    mib(r.flash.actBytes),
    r.standard.ms.toFixed(0),
    r.flash.ms.toFixed(0),
    `${r.timeRatio.toFixed(2)}×`,
    `${r.cpuRatio.toFixed(2)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(`attention: causal, headDim ${D}, batch 1, Flash block ${BLOCK}; median wall time`);
  console.log(line(head));
  console.log(`| ${widths.map((w, i) => (i < 3 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`);
  for (const b of body) console.log(line(b));
  console.log(
    `(${seconds.toFixed(0)} s; act = bytes the forward saves for backward; (CPU) = the same ratio in CPU time)`,
  );
}
