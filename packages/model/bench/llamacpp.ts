/**
 * `pnpm bench llamacpp [--json] [--rounds N]`: decode speed of llama.cpp (node-llama-cpp's CPU build,
 * 1 and 2 threads) and of our WASM backend (1 and 2 threads) on the same GGUF weights: the shipped
 * small model exported as F32, Q8_0 and Q4_0, 128 greedy tokens after a 64-token prompt. A warm-up
 * round, then rounds that interleave every contender; medians with min–max. Not a test: nothing is
 * asserted. llama.cpp's time is its own engine time (`eval time` from its perf counters), with the
 * wall time beside it (which adds node-llama-cpp's per-token JS work).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import {
  disposeWasm,
  exportGguf,
  loadGgufModel,
  loadSmallWeights,
  parse,
  type Spread,
  spreadOf,
  Transformer,
  wasmAvailable,
  wasmUnavailableReason,
} from "../src/index.js";

const json = process.argv.includes("--json");
const roundsArg = process.argv.indexOf("--rounds");
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;
const PROMPT = 64;
const DECODE = 128;
const FORMATS = ["FP32", "Q8_0", "Q4_0"] as const;
const TYPE = { FP32: "F32", Q8_0: "Q8_0", Q4_0: "Q4_0" } as const;

if (!wasmAvailable()) {
  process.stderr.write(`bench llamacpp: WASM unavailable (${wasmUnavailableReason()})\n`);
  process.exit(1);
}

/** One timed run: decode ms per token (engine time for llama.cpp), wall ms per token, the tokens. */
interface Sample {
  readonly engineMs: number;
  readonly wallMs: number;
  readonly tokens: readonly number[];
}
interface Contender {
  readonly format: (typeof FORMATS)[number];
  readonly engine: "llama.cpp" | "ours (WASM)";
  readonly threads: number;
  run(): Promise<Sample>;
}

const text = "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age";
const prompt = Array.from(new TextEncoder().encode(text)).slice(0, PROMPT);

let perfLine = "";
const llama = await getLlama({
  gpu: false,
  build: "never",
  logLevel: LlamaLogLevel.info,
  logger: (_level, message) => {
    if (/eval time/.test(message) && !/prompt eval/.test(message)) perfLine = message;
  },
});

function llamaContender(format: Contender["format"], model: LlamaModel, threads: number): Contender {
  return {
    format,
    engine: "llama.cpp",
    threads,
    async run() {
      const ctx = await model.createContext({
        contextSize: 256,
        batchSize: 64,
        threads,
        performanceTracking: true,
      });
      try {
        const seq = ctx.getSequence();
        const tokens: number[] = [];
        let t1 = 0;
        for await (const tok of seq.evaluate(prompt as Token[], { temperature: 0 })) {
          if (tokens.length === 0) t1 = performance.now(); // prompt evaluated, first token sampled
          tokens.push(tok);
          if (tokens.length === DECODE + 1) break;
        }
        const wall = performance.now() - t1;
        perfLine = "";
        await ctx.printTimings();
        // "eval time = 25.43 ms / 128 runs (0.20 ms per token, ...)": llama.cpp's own decode time
        const m = /eval time =\s*([\d.]+) ms \/\s*(\d+) runs/.exec(perfLine);
        const engine = m ? Number(m[1]) / Number(m[2]) : Number.NaN;
        return { engineMs: engine, wallMs: wall / DECODE, tokens };
      } finally {
        await ctx.dispose();
      }
    },
  };
}

function oursContender(format: Contender["format"], model: Transformer, threads: number): Contender {
  return {
    format,
    engine: "ours (WASM)",
    threads,
    async run() {
      let t1 = 0;
      const [tokens] = model.generate([prompt], DECODE + 1, {
        onStep: (step) => {
          if (step === 0) t1 = performance.now();
        },
      });
      const ms = (performance.now() - t1) / DECODE;
      return { engineMs: ms, wallMs: ms, tokens: tokens! };
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), "bench-llamacpp-"));
const contenders: Contender[] = [];
const owned: { dispose(): unknown }[] = [];
try {
  for (const format of FORMATS) {
    const source = Transformer.create("small", parse(format), { weights: loadSmallWeights() });
    const path = join(dir, `small-${format}.gguf`);
    exportGguf(source, path);
    source.dispose();
    const lm = await llama.loadModel({ modelPath: path });
    owned.push(lm);
    for (const threads of [1, 2]) {
      const ours = loadGgufModel(path, { configuration: parse(`${format}+WASM[threads=${threads}]`) });
      owned.push(ours);
      contenders.push(llamaContender(format, lm, threads), oursContender(format, ours, threads));
    }
  }
  for (const c of contenders) await c.run(); // warm-up
  const samples: Sample[][] = contenders.map(() => []);
  // Round r starts at contender r mod n: none always runs first or after the same neighbour.
  for (let r = 0; r < ROUNDS; r++)
    for (let j = 0; j < contenders.length; j++) {
      const i = (r + j) % contenders.length;
      samples[i]!.push(await contenders[i]!.run());
    }
  report(samples);
} finally {
  for (const o of owned) await o.dispose();
  await llama.dispose();
  disposeWasm();
  rmSync(dir, { recursive: true, force: true });
}

function report(samples: Sample[][]): void {
  const rows = contenders.map((c, i) => {
    const s = samples[i]!;
    const engine = spreadOf(s.map((x) => x.engineMs));
    return {
      format: TYPE[c.format],
      engine: c.engine,
      threads: c.threads,
      msPerToken: engine,
      tokensPerSecond: 1000 / engine.median,
      wallMsPerToken: spreadOf(s.map((x) => x.wallMs)),
      tokens: s[0]!.tokens,
    };
  });
  const ratios = FORMATS.map((f) => {
    const best = (engine: string) =>
      rows
        .filter((r) => r.format === TYPE[f] && r.engine === engine)
        .sort((a, b) => a.msPerToken.median - b.msPerToken.median)[0]!;
    const l = best("llama.cpp");
    const o = best("ours (WASM)");
    return {
      format: TYPE[f],
      llamaThreads: l.threads,
      oursThreads: o.threads,
      ratio: l.msPerToken.median / o.msPerToken.median,
      /** The same against llama.cpp's wall time through node-llama-cpp (its per-token JS included). */
      wallRatio: l.wallMsPerToken.median / o.msPerToken.median,
      sameTokens: l.tokens.join() === o.tokens.join(),
    };
  });
  if (json) {
    const out = {
      prompt: PROMPT,
      decode: DECODE,
      rounds: ROUNDS,
      rows: rows.map(({ tokens: _t, ...r }) => r),
      ratios,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const fmt = (s: Spread) => `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
  process.stdout.write(
    `Decode ${DECODE} tokens after a ${PROMPT}-token prompt, small model, same GGUF weights; medians of ${ROUNDS} interleaved rounds (min–max); 1-min load average ${loadavg()[0]!.toFixed(1)}\n\n`,
  );
  process.stdout.write(
    `${"type".padEnd(6)}${"engine".padEnd(14)}thr  ${"ms/token".padEnd(24)}tok/s   ${"wall ms/token".padEnd(24)}\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `${r.format.padEnd(6)}${r.engine.padEnd(14)}${String(r.threads).padEnd(5)}${fmt(r.msPerToken).padEnd(24)}${r.tokensPerSecond.toFixed(0).padStart(6)}  ${fmt(r.wallMsPerToken)}\n`,
    );
  process.stdout.write(
    "\nours ÷ llama.cpp decode speed, each at its best thread count (goal: ≥ 0.5 at F32, ≥ 0.4 at Q4_0)\n",
  );
  for (const r of ratios)
    process.stdout.write(
      `${r.format.padEnd(6)}${r.ratio.toFixed(2)}× of its engine time, ${r.wallRatio.toFixed(2)}× of its wall time (llama.cpp ${r.llamaThreads} thr, ours ${r.oursThreads} thr; same greedy tokens: ${r.sameTokens ? "yes" : "no"})\n`,
    );
}
