/**
 * The same model on the JS and WASM backends: prefill and decode logits within a named tolerance,
 * the same greedy tokens, and the same loss and gradients (the AdamW kernels are held bit-equal in
 * core-tensor). WASM runs its step kernels (RMSNorm, RoPE, SiLU, residual adds, softmax) wherever an op
 * is large enough: `tiny` with 3 prompts of 48 tokens makes the prefill's ops cross those thresholds.
 */
import {
  backward,
  disposeWasm,
  jsBackend,
  MemoryLedger,
  noGrad,
  Rng,
  randn,
  tensor,
  wasmAvailable,
  wasmBackend,
  withBackend,
  withLedger,
} from "@tradeoffs/core-tensor";
import { afterAll, describe, expect, it } from "vitest";
import { AdamW } from "./optim/adamw.js";
import { parse } from "./registry.js";
import { Transformer } from "./transformer.js";

/**
 * f32 kernels in another order (blocked GEMM, SIMD sums, f32 exp) against the JS ones, through a
 * few layers: relative to the largest logit.
 */
const LOGIT_TOL = 1e-4;
/**
 * Gradients of the same loss, relative to the largest: the forward's kernels differ, and so does
 * Flash's backward (WASM tile kernel vs JS); the other backward closures run JS on both.
 */
const GRAD_TOL = 1e-4;

afterAll(() => disposeWasm());

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return d / Math.max(scale, 1e-30);
}

describe.skipIf(!wasmAvailable())("JS and WASM backends agree on a whole model", () => {
  const B = 3;
  const P = 48;
  const rng = new Rng(5);
  const prompt = Array.from({ length: B * P }, () => rng.int(64));

  function infer(config: string) {
    return withLedger(new MemoryLedger(), () =>
      noGrad(() => {
        const model = Transformer.create("tiny", parse(config), { seed: 9 });
        try {
          const cache = model.createCache(B, P + 4);
          const ids = tensor(prompt, [B, P], { dtype: "i32" });
          const prefill = model.forward(ids, cache);
          const pre = prefill.data.slice();
          const step = tensor([1, 2, 3], [B, 1], { dtype: "i32" });
          const next = model.forward(step, cache);
          const dec = next.data.slice();
          for (const t of [ids, prefill, step, next]) t.dispose();
          cache.dispose();
          const tokens = model.generate([prompt.slice(0, P), prompt.slice(P, 2 * P)], 6);
          return { pre, dec, tokens };
        } finally {
          model.dispose();
        }
      }),
    );
  }

  it("prefill and decode logits within LOGIT_TOL, and the same greedy tokens", () => {
    const js = infer("JS");
    const wa = infer("WASM");
    expect(maxRelDiff(wa.pre, js.pre)).toBeLessThanOrEqual(LOGIT_TOL);
    expect(maxRelDiff(wa.dec, js.dec)).toBeLessThanOrEqual(LOGIT_TOL);
    expect(wa.tokens).toEqual(js.tokens);
  });

  it.each(["WASM+Flash", "WASM+Standard", "JS+Standard"])(
    "%s decode attends over the cache's reservation in place (KvCache.view): the gathered read's logits bit for bit, fewer tmp bytes",
    (config) => {
      // batch 1: the contiguous cache offers a view only for one lockstep sequence
      const decode = (inPlace: boolean) => {
        const ledger = new MemoryLedger();
        const logits = withLedger(ledger, () =>
          noGrad(() => {
            const model = Transformer.create("tiny", parse(config), { seed: 9 });
            try {
              const cache = model.createCache(1, P + 6);
              if (!inPlace) cache.view = () => undefined; // no view: the gather path
              const out: number[][] = [];
              const ids = tensor(prompt.slice(0, P), [1, P], { dtype: "i32" });
              model.forward(ids, cache).dispose();
              ids.dispose();
              for (let t = 0; t < 5; t++) {
                const step = tensor([t + 1], [1, 1], { dtype: "i32" });
                const next = model.forward(step, cache);
                out.push(Array.from(next.data));
                for (const x of [step, next]) x.dispose();
              }
              cache.dispose();
              return out;
            } finally {
              model.dispose();
            }
          }),
        );
        return { logits, tmp: ledger.snapshot().peakPaths.tmp ?? 0 };
      };
      const viewed = decode(true);
      const gathered = decode(false);
      expect(viewed.logits).toEqual(gathered.logits);
      expect(viewed.tmp).toBeLessThanOrEqual(gathered.tmp);
    },
  );

  it("the training loss within LOGIT_TOL and every parameter's gradient within GRAD_TOL", () => {
    const grads = (config: string) =>
      withLedger(new MemoryLedger(), () => {
        const model = Transformer.create("tiny", parse(config), { seed: 9 });
        try {
          const x = tensor(prompt, [B, P], { dtype: "i32" });
          const y = tensor(
            prompt.map((t) => (t + 1) % 64),
            [B, P],
            { dtype: "i32" },
          );
          // Backward runs on the active backend: the model's, here.
          const loss = model.run(() => {
            const l = model.loss(x, y);
            backward(l);
            const v = l.item();
            l.dispose();
            return v;
          });
          x.dispose();
          y.dispose();
          const g = model.parameters().map((p) => p.grad!.data.slice());
          for (const p of model.parameters()) p.grad?.dispose();
          return { loss, g };
        } finally {
          model.dispose();
        }
      });
    // Standard attention, and Flash (whose backward runs the WASM tile kernel on WASM).
    for (const attention of ["", "Flash+"]) {
      const js = grads(`${attention}JS`);
      const wa = grads(`${attention}WASM`);
      expect(Math.abs(wa.loss - js.loss) / js.loss).toBeLessThanOrEqual(LOGIT_TOL);
      expect(wa.g.length).toBe(js.g.length);
      for (let i = 0; i < js.g.length; i++) {
        expect(maxRelDiff(wa.g[i]!, js.g[i]!), `${attention}parameter ${i}`).toBeLessThanOrEqual(GRAD_TOL);
      }
    }
  });

  it("AdamW steps leave bit-equal parameters (one above the WASM threshold)", () => {
    const run = (backend: "JS" | "WASM") =>
      withLedger(new MemoryLedger(), () =>
        withBackend(backend === "JS" ? jsBackend : wasmBackend(2), () => {
          const init = new Rng(12);
          const w = randn([70, 73], init, { requiresGrad: true });
          const b = randn([73], init, { requiresGrad: true });
          const opt = new AdamW([w, b], { lr: 1e-2, clip: 0.5 });
          const g = new Rng(13);
          for (let t = 0; t < 3; t++) {
            w.grad = randn(w.shape, g);
            b.grad = randn(b.shape, g);
            noGrad(() => opt.step());
            opt.zeroGrad();
          }
          const out = [w.data.slice(), b.data.slice()];
          opt.dispose();
          w.dispose();
          b.dispose();
          return out;
        }),
      );
    const js = run("JS");
    const wa = run("WASM");
    expect(wa[0]).toEqual(js[0]);
    expect(wa[1]).toEqual(js[1]);
  });
});
