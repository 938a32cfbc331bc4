/**
 * `pnpm bench kv [--json] [--quick]`: (1) KV cache bytes per token as the ledger measures them, for
 * MHA, GQA and MQA × fp32/fp16/int8, beside the formula 2·layers·kvHeads·(headDim·bytes + scale);
 * (2) decode time per token with a 2048-token context: one query token attends over K/V read from
 * the KV stores (standardAttention), every layout × dtype timed side by side in one run.
 * Not a test: nothing is asserted; times depend on the machine.
 */
import { standardAttention } from "@tradeoffs/attention";
import { empty, getLedger, type KvStore, Rng, randn, scope, type Tensor } from "@tradeoffs/core-tensor";
import { KV_DTYPE_NAMES, KV_DTYPES, type KvDtypeName, kvBytesPerToken } from "../src/kv-dtype.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");

interface Dims {
  readonly name: string;
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
}

/** The model package's `small` preset: d = 192, 6 heads of 32, 4 layers (GQA default kvHeads 2 = groups of 3). */
const SMALL: Dims = { name: "small", layers: 4, heads: 6, headDim: 32 };
/**
 * Llama-2-70B: 80 layers, 64 heads of 128 (d = 8192), 8 K/V heads as published.
 * Source: Touvron et al. 2023, "Llama 2", Table 1 / §2.2 (GQA for 34B and 70B); HF config.json.
 */
const LLAMA2_70B: Dims = { name: "llama2-70b", layers: 80, heads: 64, headDim: 128 };

function layouts(d: Dims): { name: string; kvHeads: number }[] {
  const out = [{ name: "MHA", kvHeads: d.heads }];
  if (d === LLAMA2_70B) out.push({ name: "GQA[kvHeads=8] (published)", kvHeads: 8 });
  out.push({ name: "GQA[kvHeads=2]", kvHeads: 2 }, { name: "MQA", kvHeads: 1 });
  return out;
}

// ---------------------------------------------------------------------------------------------
// (1) Bytes per token, measured by the ledger.

interface BytesRow {
  model: string;
  layout: string;
  kvHeads: number;
  dtype: KvDtypeName;
  measuredBytesPerToken: number;
  formulaBytesPerToken: number;
  vsMha: number;
}

/** Allocate K and V stores for every layer holding `tokens` tokens; bytes per token from the ledger. */
function measureBytesPerToken(d: Dims, kvHeads: number, dtype: KvDtypeName, tokens: number): number {
  const ledger = getLedger();
  const before = ledger.live("kv");
  const stores: KvStore[] = [];
  for (let l = 0; l < d.layers; l++) {
    for (const _kv of ["k", "v"]) stores.push(KV_DTYPES[dtype].allocate(kvHeads * tokens, d.headDim, "kv"));
  }
  const bytes = ledger.live("kv") - before;
  for (const s of stores) s.dispose();
  return bytes / tokens;
}

const bytesRows: BytesRow[] = [];
for (const [d, tokens] of [
  [SMALL, 256],
  [LLAMA2_70B, 4],
] as const) {
  for (const lay of layouts(d)) {
    for (const dtype of KV_DTYPE_NAMES) {
      const dims = { layers: d.layers, kvHeads: lay.kvHeads, headDim: d.headDim };
      bytesRows.push({
        model: d.name,
        layout: lay.name,
        kvHeads: lay.kvHeads,
        dtype,
        measuredBytesPerToken: measureBytesPerToken(d, lay.kvHeads, dtype, tokens),
        formulaBytesPerToken: kvBytesPerToken(dims, KV_DTYPES[dtype]),
        vsMha:
          kvBytesPerToken(dims, KV_DTYPES[dtype]) /
          kvBytesPerToken({ ...dims, kvHeads: d.heads }, KV_DTYPES.fp32),
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// (2) Decode time per token against a long context.

const CONTEXT = 2048;
const REPS = quick ? 8 : 40;

interface DecodeCase {
  readonly layout: string;
  readonly kvHeads: number;
  readonly dtype: KvDtypeName;
  /** Per layer: K and V stores of kvHeads·CONTEXT vectors, vector h·CONTEXT + t. */
  readonly k: KvStore[];
  readonly v: KvStore[];
  readonly samples: number[];
  readonly attendSamples: number[];
}

/** Every head's CONTEXT positions decoded to f32 [1, Hkv, CONTEXT, D] (a `tmp` tensor). */
function readAll(store: KvStore, kvHeads: number): Tensor {
  const D = store.dim;
  const out = empty([1, kvHeads, CONTEXT, D]);
  const od = out.data;
  for (let i = 0; i < kvHeads * CONTEXT; i++) store.read(i, od, i * D);
  return out;
}

const rng = new Rng(1);
const cases: DecodeCase[] = [];
for (const lay of layouts(SMALL)) {
  for (const dtype of KV_DTYPE_NAMES) {
    const c: DecodeCase = {
      layout: lay.name,
      kvHeads: lay.kvHeads,
      dtype,
      k: [],
      v: [],
      samples: [],
      attendSamples: [],
    };
    for (let l = 0; l < SMALL.layers; l++) {
      for (const stores of [c.k, c.v]) {
        const s = KV_DTYPES[dtype].allocate(lay.kvHeads * CONTEXT, SMALL.headDim, "kv");
        scope(() => {
          const src = randn([lay.kvHeads * CONTEXT, SMALL.headDim], rng).data;
          for (let i = 0; i < lay.kvHeads * CONTEXT; i++) s.write(i, src, i * SMALL.headDim);
        });
        stores.push(s);
      }
    }
    cases.push(c);
  }
}

/** One decode step over every layer: read K/V from the stores, attend one query token. */
function decodeStep(c: DecodeCase, q: Tensor): { total: number; attend: number } {
  let attend = 0;
  const t0 = performance.now();
  for (let l = 0; l < SMALL.layers; l++) {
    scope(() => {
      const k = readAll(c.k[l]!, c.kvHeads); // (1, Hkv, CONTEXT, D)
      const v = readAll(c.v[l]!, c.kvHeads);
      const a0 = performance.now();
      standardAttention(q, k, v, { causal: true }); // (1, H, 1, D)
      attend += performance.now() - a0;
    });
  }
  return { total: performance.now() - t0, attend };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

scope(() => {
  const q = randn([1, SMALL.heads, 1, SMALL.headDim], rng); // (1, H, 1, D): the new token's queries
  for (const c of cases) decodeStep(c, q); // warm-up (JIT)
  for (let r = 0; r < REPS; r++) {
    // Interleaved: every case runs once per round, so drift hits all of them alike.
    for (const c of cases) {
      const { total, attend } = decodeStep(c, q);
      c.samples.push(total);
      c.attendSamples.push(attend);
    }
  }
});

const mhaMs = new Map<KvDtypeName, number>();
for (const c of cases) if (c.layout === "MHA") mhaMs.set(c.dtype, median(c.samples));
const fp32MhaMs = mhaMs.get("fp32")!;
const decodeRows = cases.map((c) => {
  const ms = median(c.samples);
  return {
    layout: c.layout,
    kvHeads: c.kvHeads,
    dtype: c.dtype,
    kvBytesRead:
      CONTEXT *
      kvBytesPerToken(
        { layers: SMALL.layers, kvHeads: c.kvHeads, headDim: SMALL.headDim },
        KV_DTYPES[c.dtype],
      ),
    msPerToken: ms,
    attendMsPerToken: median(c.attendSamples),
    speedupVsMhaSameDtype: mhaMs.get(c.dtype)! / ms,
    speedupVsMhaFp32: fp32MhaMs / ms,
  };
});
for (const c of cases) for (const s of [...c.k, ...c.v]) s.dispose();

// ---------------------------------------------------------------------------------------------
// Output.

const result = {
  bench: "kv",
  node: process.version,
  bytesPerToken: bytesRows,
  decode: {
    model: SMALL.name,
    layers: SMALL.layers,
    heads: SMALL.heads,
    headDim: SMALL.headDim,
    context: CONTEXT,
    batch: 1,
    reps: REPS,
    attention: "standardAttention (@tradeoffs/attention)",
    rows: decodeRows,
  },
};

if (json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const padEnd = (s: string | number, n: number) => String(s).padEnd(n);
  const out: string[] = [];
  out.push("KV cache bytes per token (ledger-measured vs formula 2·layers·kvHeads·(headDim·bytes + scale))");
  out.push(
    `${padEnd("model", 11)} ${padEnd("layout", 27)} ${pad("kvHeads", 7)} ${padEnd("dtype", 5)} ${pad("measured B/token", 16)} ${pad("formula", 10)} ${pad("vs MHA fp32", 11)}`,
  );
  for (const r of bytesRows) {
    out.push(
      `${padEnd(r.model, 11)} ${padEnd(r.layout, 27)} ${pad(r.kvHeads, 7)} ${padEnd(r.dtype, 5)} ${pad(r.measuredBytesPerToken, 16)} ${pad(r.formulaBytesPerToken, 10)} ${pad(`${(r.vsMha * 100).toFixed(2)}%`, 11)}`,
    );
  }
  out.push("");
  out.push(
    `Decode time per token: ${SMALL.name} (${SMALL.layers} layers, ${SMALL.heads} heads × ${SMALL.headDim}), context ${CONTEXT}, batch 1, median of ${REPS} interleaved rounds`,
  );
  out.push(
    `${padEnd("layout", 15)} ${padEnd("dtype", 5)} ${pad("KV read/token", 13)} ${pad("ms/token", 9)} ${pad("attend ms", 9)} ${pad("vs MHA same dtype", 17)} ${pad("vs MHA fp32", 11)}`,
  );
  for (const r of decodeRows) {
    out.push(
      `${padEnd(r.layout, 15)} ${padEnd(r.dtype, 5)} ${pad(`${(r.kvBytesRead / 2 ** 20).toFixed(2)} MiB`, 13)} ${pad(r.msPerToken.toFixed(3), 9)} ${pad(r.attendMsPerToken.toFixed(3), 9)} ${pad(`${r.speedupVsMhaSameDtype.toFixed(2)}×`, 17)} ${pad(`${r.speedupVsMhaFp32.toFixed(2)}×`, 11)}`,
    );
  }
  process.stdout.write(`${out.join("\n")}\n`);
}
