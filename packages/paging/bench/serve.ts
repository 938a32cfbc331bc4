/**
 * `pnpm bench serve [--json] [--requests N]`: the default trace through the scheduler at one KV budget,
 * Paged[block=16] vs Contiguous, plus parallel sampling n=4, on the test fixture `ToyAttentionModel`.
 * Clock: simulated (DEFAULT_STEP_COST); wall seconds are printed too.
 */
import { formatBytes, getLedger } from "@tradeoffs/core-tensor";
import { kvDtype } from "@tradeoffs/kv-cache";
import {
  ContiguousKvCache,
  PagedKvCache,
  type SequenceCache,
  type ServeMetrics,
  serve,
  syntheticTrace,
} from "../src/index.js";
import { ToyAttentionModel } from "../src/testing/toy-model.js";

const json = process.argv.includes("--json");
const at = process.argv.indexOf("--requests");
const requests = at > 0 ? Number(process.argv[at + 1]) : 100;

const model = new ToyAttentionModel({ layers: 2, heads: 4, kvHeads: 2, headDim: 8, vocab: 64, seed: 7 });
const dtype = kvDtype().exec;
const shape = { layers: model.layers, kvHeads: model.kvHeads, headDim: model.headDim, dtype };
const maxSeq = 2048;
const tokenBytes = model.layers * 2 * model.kvHeads * model.headDim * 4;
const budgetBytes = 16 * maxSeq * tokenBytes; // 16 contiguous reservations of the full context
const trace = syntheticTrace({ requests, maxSeq, vocab: model.vocab, seed: 0 });

function run(name: string, cache: SequenceCache, reqs = trace) {
  const ledger = getLedger();
  ledger.resetPeak();
  const kvBefore = ledger.live("kv");
  const { metrics } = serve(reqs, { cache, model, maxSeq });
  const peakKvLedger = ledger.peak("kv") - kvBefore;
  cache.dispose();
  return { name, metrics, peakKvLedger };
}

const rows = [
  run("Paged[block=16]", new PagedKvCache({ ...shape, block: 16, budgetBytes })),
  run("Contiguous", new ContiguousKvCache({ ...shape, budgetBytes })),
];

// Parallel sampling: n=4 samples per request vs the same prompts as 4 independent requests (prefix caching off).
const sampled = syntheticTrace({
  requests: Math.max(1, Math.floor(requests / 4)),
  maxSeq,
  vocab: model.vocab,
  seed: 5,
  n: 4,
  rate: 5,
});
const independent = sampled.flatMap((r) =>
  [0, 1, 2, 3].map((j) => ({ ...r, id: r.id * 4 + j, n: 1, seed: r.id * 4 + j })),
);
const bigBudget = 4 * budgetBytes; // no preemption: compare blocks, not queueing
const blockBytes = 16 * tokenBytes;
const par = run(
  "n=4 samples",
  new PagedKvCache({ ...shape, block: 16, budgetBytes: bigBudget, prefixCaching: false }),
  sampled,
);
const ind = run(
  "4 independent",
  new PagedKvCache({ ...shape, block: 16, budgetBytes: bigBudget, prefixCaching: false }),
  independent,
);
model.dispose();

const paged = rows[0]!.metrics;
const contiguous = rows[1]!.metrics;
const summary = {
  trace: {
    requests,
    rate: 20,
    maxSeq,
    prompt: "lognormal(median 128, σ 0.9) in [4, 1024]",
    output: "lognormal(median 128, σ 1.0) in [1, 1024]",
  },
  model: "ToyAttentionModel(layers 2, heads 4, kvHeads 2, headDim 8)",
  clock: "simulated (DEFAULT_STEP_COST)",
  kvBudgetBytes: budgetBytes,
  runs: rows.map((r) => ({ name: r.name, peakKvLedgerBytes: r.peakKvLedger, ...r.metrics })),
  ratios: {
    peakSequencesPagedOverContiguous: paged.peakSequences / contiguous.peakSequences,
    throughputPagedOverContiguous: paged.tokensPerSecond / contiguous.tokensPerSecond,
  },
  parallelSampling: {
    requests: sampled.length,
    peakBlocksN4: par.metrics.peakReservedBytes / blockBytes,
    peakBlocksIndependent: ind.metrics.peakReservedBytes / blockBytes,
  },
};

if (json) {
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} else {
  const pct = (x: number) => `${x.toFixed(1)}%`;
  const ms = (x: number) => `${(x * 1000).toFixed(1)} ms`;
  const header = [
    "variant",
    "waste",
    "int. frag",
    "peak seqs",
    "mean seqs",
    "tok/s",
    "req/s",
    "TTFT p50/p99",
    "TPOT p50/p99",
    "preempt r/s",
    "peak KV (ledger)",
    "wall",
  ];
  const table = rows.map(
    ({ name, metrics: m, peakKvLedger }: { name: string; metrics: ServeMetrics; peakKvLedger: number }) => [
      name,
      pct(m.wastePercent),
      pct(m.internalFragmentationPercent),
      String(m.peakSequences),
      m.meanSequences.toFixed(1),
      m.tokensPerSecond.toFixed(0),
      m.requestsPerSecond.toFixed(2),
      `${ms(m.ttft.p50)} / ${ms(m.ttft.p99)}`,
      `${ms(m.tpot.p50)} / ${ms(m.tpot.p99)}`,
      `${m.preemptions.recompute}/${m.preemptions.swap}`,
      formatBytes(peakKvLedger),
      `${m.wallSeconds.toFixed(1)} s`,
    ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(
    `serve: ${requests} requests, Poisson 20/s, KV budget ${formatBytes(budgetBytes)}, ${summary.model}, clock ${summary.clock}`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of table) console.log(line(r));
  console.log(
    `Paged/Contiguous: peak sequences ×${summary.ratios.peakSequencesPagedOverContiguous.toFixed(2)}, throughput ×${summary.ratios.throughputPagedOverContiguous.toFixed(2)}`,
  );
  console.log(
    `parallel sampling (${sampled.length} prompts): peak blocks n=4 ${summary.parallelSampling.peakBlocksN4} vs 4 independent ${summary.parallelSampling.peakBlocksIndependent}`,
  );
}
