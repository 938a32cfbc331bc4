/**
 * `pnpm bench step-kernels [--json] [--reps N] [--configs Baseline,Q8_0]`: what the WASM step kernels
 * (RMSNorm, RoPE, SiLU, adds, softmax, attention's masked softmax: core-tensor's wasm/fused.ts) buy end
 * to end. The `small` model on the WASM backend as it is, against the same backend with those kernels
 * replaced by the JS ones, interleaved in one process: a 64-token prefill and 32 decode steps per
 * round, wall and CPU ms, best (least disturbed) and median. Not a test: nothing is asserted; the
 * machine may be shared.
 */
import { loadavg } from "node:os";
import {
  type Backend,
  defineStrategy,
  getLedger,
  jsBackend,
  noGrad,
  tensor,
  wasm,
  wasmAvailable,
  wasmBackend,
  withLedger,
} from "@tradeoffs/core-tensor";
import { filled, parse, Transformer } from "../src/index.js";

const argv = process.argv.slice(2);
const JSON_OUT = argv.includes("--json");
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const REPS = Number(opt("--reps", "30"));
const CONFIGS = opt("--configs", "Baseline,Q8_0").split(",");
const PROMPT = 64;
const STEPS = 32;
const WARM = 3;

if (!wasmAvailable()) {
  console.log("WASM unavailable here: nothing to measure");
  process.exit(0);
}

/** The WASM backend with its step kernels replaced by JS's (matmul, attention, GEMV unchanged). */
function withoutStepKernels(b: Backend): Backend {
  const { siluMul: _s, sample: _p, adamw: _a, attentionBackward: _b, maskedSoftmax: _m, ...rest } = b;
  return Object.freeze({
    ...rest,
    binary: jsBackend.binary,
    unary: jsBackend.unary,
    rmsNorm: jsBackend.rmsNorm,
    rope: jsBackend.rope,
    softmax: jsBackend.softmax,
    argmax: jsBackend.argmax,
  });
}

const withKernels = wasm({ threads: 2 });
const plain = withoutStepKernels(wasmBackend(2));
const withoutKernels = defineStrategy({
  name: "WASM",
  slot: "backend",
  description: "WASM without the step kernels (JS norms, RoPE, SiLU, adds, softmax)",
  options: {},
  plan: (p) => withKernels.plan(p),
  exec: () => ({ backend: plain }),
})({});

interface Sample {
  prefillWall: number[];
  prefillCpu: number[];
  stepWall: number[];
  stepCpu: number[];
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
const best = (x: number[]) => Math.min(...x);
const median = (x: number[]) => {
  const s = [...x].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const rows: Record<string, unknown>[] = [];
noGrad(() =>
  withLedger(getLedger(), () => {
    for (const config of CONFIGS) {
      const variants = [
        {
          name: "without",
          model: Transformer.create("small", filled(parse(config), withoutKernels), { seed: 1 }),
        },
        { name: "with", model: Transformer.create("small", filled(parse(config), withKernels), { seed: 1 }) },
      ];
      const ids = tensor(
        Array.from({ length: PROMPT }, (_, i) => (i * 7) % 256),
        [1, PROMPT],
        { dtype: "i32" },
      );
      const next = tensor([5], [1, 1], { dtype: "i32" });
      const samples: Sample[] = variants.map(() => ({
        prefillWall: [],
        prefillCpu: [],
        stepWall: [],
        stepCpu: [],
      }));
      for (let r = 0; r < WARM + REPS; r++) {
        variants.forEach(({ model }, i) => {
          const cache = model.createCache(1, PROMPT + STEPS);
          let c0 = process.cpuUsage();
          let t0 = performance.now();
          model.forward(ids, cache).dispose();
          const pw = performance.now() - t0;
          const pc = cpuMs(c0);
          c0 = process.cpuUsage();
          t0 = performance.now();
          for (let s = 0; s < STEPS; s++) model.forward(next, cache).dispose();
          const sw = (performance.now() - t0) / STEPS;
          const sc = cpuMs(c0) / STEPS;
          cache.dispose();
          if (r < WARM) return;
          const x = samples[i]!;
          x.prefillWall.push(pw);
          x.prefillCpu.push(pc);
          x.stepWall.push(sw);
          x.stepCpu.push(sc);
        });
      }
      ids.dispose();
      next.dispose();
      variants.forEach(({ name, model }, i) => {
        const x = samples[i]!;
        const row = {
          config,
          stepKernels: name,
          prefillTokSBest: (PROMPT * 1000) / best(x.prefillWall),
          prefillTokSMedian: (PROMPT * 1000) / median(x.prefillWall),
          prefillCpuMsBest: best(x.prefillCpu),
          decodeTokSBest: 1000 / best(x.stepWall),
          decodeTokSMedian: 1000 / median(x.stepWall),
          decodeCpuMsBest: best(x.stepCpu),
        };
        rows.push(row);
        model.dispose();
        if (!JSON_OUT) {
          console.log(
            `small ${config.padEnd(9)} ${`${name} step kernels`.padEnd(21)} prefill(${PROMPT}) ${row.prefillTokSBest.toFixed(0)} tok/s best, ${row.prefillTokSMedian.toFixed(0)} median (cpu ${row.prefillCpuMsBest.toFixed(2)} ms)   decode ${row.decodeTokSBest.toFixed(0)} tok/s best, ${row.decodeTokSMedian.toFixed(0)} median (cpu ${row.decodeCpuMsBest.toFixed(3)} ms/step)`,
          );
        }
      });
    }
  }),
);
const load = loadavg().map((l) => Number(l.toFixed(2)));
if (JSON_OUT) console.log(JSON.stringify({ reps: REPS, loadavg: load, rows }, null, 2));
else console.log(`${REPS} interleaved rounds after ${WARM} warm-up; loadavg ${load.join(" ")}`);
process.exit(0);
