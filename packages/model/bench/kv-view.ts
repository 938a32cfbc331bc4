/**
 * `pnpm bench kv-view [--json] [--model medium] [--configs Baseline,Flash,Q4_0,Q4_0+Flash]
 * [--positions 64,512,1536] [--steps 55]`: decode over the KV cache in place (`KvCache.view`, which
 * Standard and Flash on WASM read with `AttendOptions.keys`) against the gather it replaced
 * (`KvCache.read`, a copy of every cached position per layer per token). Per configuration one model
 * and two caches filled by the same prompt, one with `view` switched off; decode steps alternate
 * between them (the first of each pair taking turns), so drift on a shared machine hits both alike.
 * Prints each path's median ms per token with its min–max after 5 warm-up steps, and in place ÷
 * gathered. Both paths must give the same logits bit for bit; a mismatch is an error. Not a test.
 */

import { type KvCache, noGrad, type Tensor, tensor } from "@tradeoffs/core-tensor";
import {
  filled,
  getPreset,
  loadText,
  PRESET_NAMES,
  type PresetName,
  parse,
  type Spread,
  spreadOf,
  startLoadProbe,
  Transformer,
  useFastestBackend,
} from "../src/index.js";
import { benchArgs } from "./lib/args.js";

/** Untimed decode steps of each path before the timed ones. */
const WARMUP = 5;

const USAGE =
  "usage: pnpm bench kv-view [--json] [--model medium] [--configs Baseline,Flash,...] [--positions 64,512,1536] [--steps 55]";
const args = (() => {
  const { values, fail } = benchArgs("kv-view", USAGE, {
    json: { type: "boolean", default: false },
    model: { type: "string", default: "medium" },
    configs: { type: "string", default: "Baseline,Flash,Q4_0,Q4_0+Flash" },
    positions: { type: "string", default: "64,512,1536" },
    steps: { type: "string", default: "55" },
  });
  const model = values.model as PresetName;
  if (!PRESET_NAMES.includes(model) || !getPreset(model).executable) {
    const runnable = PRESET_NAMES.filter((n) => getPreset(n).executable);
    fail(`--model '${values.model}' is not an executable preset; use one of: ${runnable.join(", ")}`);
  }
  const maxSeq = getPreset(model).arch.maxSeq;
  const steps = Number(values.steps);
  if (!(Number.isInteger(steps) && steps >= 1)) fail(`--steps '${values.steps}' must be a positive integer`);
  const positions = values.positions.split(",").map(Number);
  for (const p of positions) {
    if (!(Number.isInteger(p) && p >= 1 && p + WARMUP + steps <= maxSeq))
      fail(
        `--positions: ${p} must be an integer ≥ 1 with ${p} + ${WARMUP + steps} steps ≤ ${model}'s context ${maxSeq}`,
      );
  }
  const configs = values.configs.split(",");
  for (const c of configs) {
    try {
      parse(c);
    } catch (e) {
      fail(`--configs: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { json: values.json, model, steps, positions, configs };
})();

const log = (...s: unknown[]) => {
  if (!args.json) console.log(...s);
};

interface Row {
  config: string;
  positions: number;
  /** The cache lent a view (else both paths gathered). */
  viewed: boolean;
  inPlace: Spread;
  gathered: Spread;
  /** inPlace.median / gathered.median */
  ratio: number;
}

/** Decode `steps` tokens on both caches, alternating; ms per step of each (after WARMUP). */
function alternate(model: Transformer, caches: [KvCache, KvCache], steps: number): [number[], number[]] {
  const times: [number[], number[]] = [[], []];
  for (let s = 0; s < WARMUP + steps; s++) {
    const logits: Float32Array[] = [];
    for (let j = 0; j < 2; j++) {
      const i = (s + j) % 2; // the first of each pair takes turns
      const id = tensor([(s * 31) % model.arch.vocab], [1, 1], { dtype: "i32" });
      const t0 = performance.now();
      const out: Tensor = model.forward(id, caches[i]!);
      const ms = performance.now() - t0;
      logits[i] = out.data.slice();
      out.dispose();
      id.dispose();
      if (s >= WARMUP) times[i]!.push(ms);
    }
    if (logits[0]!.some((x, q) => x !== logits[1]![q]))
      throw new Error(`decode step ${s}: the in-place and gathered logits differ`);
  }
  return times;
}

useFastestBackend();
const measuring = startLoadProbe();
log(
  `decode over the KV cache in place vs gathered, ${args.model}, batch 1; ${args.steps} steps per path after ${WARMUP} warm-up, alternated; ms per token median (min–max)`,
);
const rows: Row[] = [];
noGrad(() => {
  for (const config of args.configs) {
    const model = Transformer.create(args.model, filled(parse(config)), { seed: 0 });
    try {
      for (const P of args.positions) {
        const cap = P + WARMUP + args.steps;
        const caches: [KvCache, KvCache] = [model.createCache(1, cap), model.createCache(1, cap)];
        caches[1].view = () => undefined; // no view: the gather path
        try {
          const prompt = tensor(
            Array.from({ length: P }, (_, i) => (i * 37) % model.arch.vocab),
            [1, P],
            { dtype: "i32" },
          );
          for (const c of caches) model.forward(prompt, c).dispose();
          prompt.dispose();
          // a cache without a view (Paged, an int8 store) gathers on both paths: said beside its row
          const held = caches[0].view?.(0);
          held?.k.dispose();
          held?.v.dispose();
          const [a, b] = alternate(model, caches, args.steps);
          const inPlace = spreadOf(a);
          const gathered = spreadOf(b);
          const row = {
            config,
            positions: P,
            viewed: held !== undefined,
            inPlace,
            gathered,
            ratio: inPlace.median / gathered.median,
          };
          rows.push(row);
          const f = (s: Spread) => `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
          log(
            `${config.padEnd(14)} ${String(P).padStart(5)} cached  in place ${f(inPlace)}  gathered ${f(gathered)}  ×${row.ratio.toFixed(2)}${row.viewed ? "" : "  (this cache has no view: both paths gather)"}`,
          );
        } finally {
          for (const c of caches) c.dispose();
        }
      }
    } finally {
      model.dispose();
    }
  }
});
const load = measuring();
if (args.json) console.log(JSON.stringify({ model: args.model, steps: args.steps, rows, load }, null, 2));
else if (load) log(`machine: ${loadText(load)}`);
process.exit(0);
