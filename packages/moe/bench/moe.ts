/**
 * `pnpm bench moe [--json] [--quick]`: MoE 8×top-2 vs dense SwiGLU blocks with the same *active* and
 * the same *total* parameters at the small model's width; time per token (forward, train step), FFN
 * weight bytes from the ledger, and router load statistics after a few training steps with and
 * without the load-balancing loss. Ratios are measured side by side in this one run.
 */
import {
  add,
  backward,
  type FfnModule,
  getLedger,
  matmul,
  mean,
  mul,
  noGrad,
  Rng,
  randn,
  scope,
  square,
  sub,
  sum,
  type Tensor,
  tanh,
} from "@tradeoffs/core-tensor";
import { fp32 } from "@tradeoffs/quant";
import { dense, type MoeFfn, moe } from "../src/index.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const D = 256; // model width (the small preset's dModel)
const H = 512; // hidden width of one expert
const E = 8;
const K = 2;
const TOKENS = 4 * 64; // batch 4 × seq 64
const REPS = quick ? 3 : 7;
const TRAIN_STEPS = quick ? 4 : 12;
const LR = 0.5;

function spec(hidden: number, seed: number) {
  return {
    dModel: D,
    hidden,
    weights: fp32().exec,
    adapters: null,
    rng: new Rng(seed),
    category: "weights/ffn",
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function clearGrads(m: FfnModule): void {
  for (const p of m.parameters()) {
    p.grad?.dispose();
    p.grad = null;
  }
}

interface Row {
  name: string;
  label: string;
  hidden: number;
  weightBytes: number;
  forwardUsPerToken: number;
  trainUsPerToken: number;
}

interface Block {
  name: string;
  label: string;
  hidden: number;
  make: () => FfnModule;
}

/** One forward (no grad) and one train step (forward + backward of Σ y·w + auxLoss) of `m`, in ms. */
function timeOnce(m: FfnModule, x: Tensor, w: Tensor): [number, number] {
  const t0 = performance.now();
  noGrad(() =>
    scope(() => {
      m.forward(x);
    }),
  );
  const t1 = performance.now();
  scope(() => {
    const y = m.forward(x);
    const loss = sum(mul(y, w));
    const aux = m.auxLoss?.() ?? null;
    backward(aux ? add(loss, aux) : loss);
  });
  const t2 = performance.now();
  clearGrads(m);
  return [t1 - t0, t2 - t1];
}

/**
 * Time the blocks interleaved (each repetition runs every block once, in turn) so that they share
 * the machine's state; ratios are medians of per-repetition ratios against the first block.
 */
function timeBlocks(blocks: readonly Block[]): { rows: Row[]; fwdRatio: number[]; trainRatio: number[] } {
  const modules: FfnModule[] = [];
  const bytes: number[] = [];
  for (const b of blocks) {
    const before = getLedger().live("weights/ffn");
    modules.push(b.make());
    bytes.push(getLedger().live("weights/ffn") - before);
  }
  const rng = new Rng(1);
  const x = randn([TOKENS, D], rng);
  const w = randn([TOKENS, D], rng);
  const fwd = blocks.map(() => [] as number[]);
  const train = blocks.map(() => [] as number[]);
  const fwdR = blocks.map(() => [] as number[]);
  const trainR = blocks.map(() => [] as number[]);
  for (let r = 0; r < REPS + 1; r++) {
    const times = modules.map((m) => timeOnce(m, x, w));
    if (r === 0) continue; // warm-up
    times.forEach(([f, t], i) => {
      fwd[i]!.push(f);
      train[i]!.push(t);
      fwdR[i]!.push(times[0]![0] / f);
      trainR[i]!.push(times[0]![1] / t);
    });
  }
  x.dispose();
  w.dispose();
  for (const m of modules) m.dispose();
  return {
    rows: blocks.map((b, i) => ({
      name: b.name,
      label: b.label,
      hidden: b.hidden,
      weightBytes: bytes[i]!,
      forwardUsPerToken: (median(fwd[i]!) * 1000) / TOKENS,
      trainUsPerToken: (median(train[i]!) * 1000) / TOKENS,
    })),
    fwdRatio: fwdR.map(median),
    trainRatio: trainR.map(median),
  };
}

const moeLabel = moe({ experts: E, topK: K }).label;
const timed = timeBlocks([
  {
    name: "MoE 8×top-2",
    label: moeLabel,
    hidden: H,
    make: () => moe({ experts: E, topK: K }).exec.create(spec(H, 2)),
  },
  {
    name: "Dense, equal active",
    label: "Dense",
    hidden: K * H,
    make: () => dense().exec.create(spec(K * H, 2)),
  },
  {
    name: "Dense, equal total",
    label: "Dense",
    hidden: E * H,
    make: () => dense().exec.create(spec(E * H, 2)),
  },
]);
const rows = timed.rows;
const [m, a] = rows as [Row, Row, Row];
const ratios = {
  forwardVsEqualActive: timed.fwdRatio[1]!,
  trainVsEqualActive: timed.trainRatio[1]!,
  forwardVsEqualTotal: timed.fwdRatio[2]!,
  trainVsEqualTotal: timed.trainRatio[2]!,
  weightsVsEqualActive: m.weightBytes / a.weightBytes,
};

// Load balance: SGD on one fixed batch. Inputs x = N(0, 1) + a fixed offset μ (|μ_i| ~ 1, a shared
// component like a residual stream's mean, which skews the router at init); target = tanh(x·A)
// for a fixed random A [D, D] (std 1/√D); loss = mean((y − target)²) + the block's auxLoss().
function loadRun(aux: number) {
  const rng = new Rng(42);
  const block = moe({ experts: E, topK: K, aux }).exec.create(spec(H, 7)) as MoeFfn;
  const mu = randn([1, D], rng);
  const noise = randn([TOKENS, D], rng);
  const x = add(noise, mu);
  const A = randn([D, D], rng, { std: 1 / Math.sqrt(D) });
  const target = noGrad(() => tanh(matmul(x, A)));
  const lossOf = (): Tensor => mean(square(sub(block.forward(x), target)));
  noGrad(() => scope(() => void lossOf()));
  const initial = block.stats();
  let first = 0;
  let last = 0;
  for (let s = 0; s < TRAIN_STEPS; s++) {
    scope(() => {
      const main = lossOf();
      if (s === 0) first = main.item();
      last = main.item();
      const extra = block.auxLoss();
      backward(extra ? add(main, extra) : main);
    });
    for (const p of block.parameters()) {
      const pd = p.data;
      const g = p.grad!.data;
      for (let i = 0; i < pd.length; i++) pd[i] = pd[i]! - LR * g[i]!;
    }
    clearGrads(block);
  }
  noGrad(() => scope(() => void lossOf()));
  const final = block.stats();
  for (const tt of [mu, noise, x, A, target]) tt.dispose();
  block.dispose();
  return {
    aux,
    steps: TRAIN_STEPS,
    lossFirst: first,
    lossLast: last,
    initialCv: initial.cv,
    finalCv: final.cv,
    initialTokensPerExpert: initial.routedPerExpert,
    finalTokensPerExpert: final.routedPerExpert,
  };
}
const load = [loadRun(0), loadRun(0.01)];

const result = {
  bench: "moe",
  setup: {
    dModel: D,
    expertHidden: H,
    experts: E,
    topK: K,
    tokens: TOKENS,
    reps: REPS,
    backend: "JS",
    node: process.version,
  },
  rows,
  ratios,
  load,
  trainedOn: `${TRAIN_STEPS} SGD steps (lr ${LR}) on one batch: x = N(0,1) + fixed offset, target = tanh(x·A), MSE + auxLoss`,
};

if (json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const f = (v: number, d = 2) => v.toFixed(d);
  console.log(`MoE vs dense SwiGLU, d=${D}, expert hidden=${H}, ${TOKENS} tokens, median of ${REPS}`);
  console.log("| block | hidden | FFN weight bytes | forward µs/token | train step µs/token |");
  console.log("|---|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.name} (${r.label}) | ${r.hidden} | ${r.weightBytes} | ${f(r.forwardUsPerToken)} | ${f(r.trainUsPerToken)} |`,
    );
  }
  console.log(
    `\nMoE / equal-active dense: forward ${f(ratios.forwardVsEqualActive)}×, train ${f(ratios.trainVsEqualActive)}×, weights ${f(ratios.weightsVsEqualActive)}× (target ≤ 1.3× time at 4× weights)`,
  );
  console.log(
    `MoE / equal-total dense: forward ${f(ratios.forwardVsEqualTotal)}×, train ${f(ratios.trainVsEqualTotal)}×`,
  );
  console.log(`\nRouter load (${result.trainedOn}):`);
  console.log("| aux | MSE first → last | CV at init | CV after | tokens per expert after (of 512) |");
  console.log("|---:|---|---:|---:|---|");
  for (const l of load) {
    console.log(
      `| ${l.aux} | ${f(l.lossFirst, 4)} → ${f(l.lossLast, 4)} | ${f(l.initialCv, 3)} | ${f(l.finalCv, 3)} | ${l.finalTokensPerExpert.join(" ")} |`,
    );
  }
}
