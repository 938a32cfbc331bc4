import {
  type AttentionBackwardArgs,
  type AttentionKernelArgs,
  disposeWasm,
  grad,
  jsBackend,
  noGrad,
  Rng,
  randn,
  scope,
  slice,
  tensor,
  wasm,
  wasmAvailable,
  withBackend,
} from "@tradeoffs/core-tensor";
import { expectClose, naiveAttention } from "@tradeoffs/strategy-testkit";
import { afterAll, describe, expect, it } from "vitest";
import { FLASH_FP32_TOL, flashAttention } from "./flash.js";
import { standardAttention } from "./standard.js";

afterAll(() => disposeWasm());

describe("Flash and the backend's attention hook", () => {
  it("runs a backend's attention kernel for inference (whatever its name), the JS kernels for training when it has no backward", () => {
    const calls: AttentionKernelArgs[] = [];
    const fake = {
      ...jsBackend,
      name: "Fake",
      attention: (a: AttentionKernelArgs) => {
        calls.push(a);
        a.out.fill(7);
      },
    };
    const rng = new Rng(1);
    const q = randn([1, 2, 3, 4], rng);
    const k = randn([1, 1, 5, 4], rng);
    const v = randn([1, 1, 5, 4], rng);
    const o = noGrad(() => flashAttention(q, k, v, { causal: true, window: 2, backend: fake }));
    expect(o.toArray().every((x) => x === 7)).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ batch: 1, heads: 2, kvHeads: 1, tq: 3, tk: 5, headDim: 4, window: 2 });
    q.requiresGrad = true;
    const trained = flashAttention(q, k, v, { causal: true, window: 2, backend: fake });
    expect(calls).toHaveLength(1);
    expectClose(
      trained,
      naiveAttention(q, k, v, { causal: true, window: 2 }),
      FLASH_FP32_TOL,
      "training path",
    );
  });

  it("trains through a backend that has both kernels: its forward is asked for the log-sum-exp its backward reads", () => {
    const forward: AttentionKernelArgs[] = [];
    const backward: AttentionBackwardArgs[] = [];
    const fake = {
      ...jsBackend,
      name: "Fake",
      attention: (a: AttentionKernelArgs) => {
        forward.push(a);
        a.out.fill(7);
        a.lse?.fill(3);
      },
      attentionBackward: (a: AttentionBackwardArgs) => {
        backward.push(a);
        for (const g of [a.dq, a.dk, a.dv]) g.fill(0);
      },
    };
    const rng = new Rng(2);
    const q = randn([1, 2, 3, 4], rng, { requiresGrad: true });
    const k = randn([1, 1, 5, 4], rng);
    const v = randn([1, 1, 5, 4], rng);
    const o = flashAttention(q, k, v, { causal: true, backend: fake });
    expect(forward).toHaveLength(1);
    expect(forward[0]!.lse).toHaveLength(1 * 2 * 3);
    for (const g of grad(o, [q], { grad: randn(o.shape, rng) })) g?.dispose();
    expect(backward).toHaveLength(1);
    expect([...backward[0]!.lse]).toEqual(new Array(6).fill(3));
  });
});

describe.skipIf(!wasmAvailable())("Flash inference on the WASM backend (passed explicitly)", () => {
  const backend = wasmAvailable() ? wasm().exec.backend : jsBackend;

  for (const [H, Hkv, Tq, Tk, causal, window] of [
    [6, 2, 1, 37, true, undefined],
    [4, 2, 9, 9, true, 4],
    [2, 1, 5, 11, false, undefined],
    [2, 1, 5, 11, false, 3],
    [6, 6, 70, 70, true, undefined],
  ] as const) {
    it(`equals the JS kernel: H=${H} Hkv=${Hkv} Tq=${Tq} Tk=${Tk} causal=${causal} window=${window}`, () => {
      const rng = new Rng(5);
      const q = randn([2, H, Tq, 16], rng);
      const k = randn([2, Hkv, Tk, 16], rng);
      const v = randn([2, Hkv, Tk, 16], rng);
      const options = { causal, window, blockQ: 16, blockK: 16 };
      const js = noGrad(() => flashAttention(q, k, v, { ...options, backend: jsBackend }));
      const fast = noGrad(() => flashAttention(q, k, v, { ...options, backend }));
      expectClose(fast, js, FLASH_FP32_TOL, "WASM flash vs JS flash");
      for (const t of [q, k, v, js, fast]) t.dispose();
    });
  }

  it("`keys`: the first positions of a longer K/V (a cache's reservation) read in place by Flash's kernel and by Standard's matmuls on either backend, the prefix's result bit for bit; Flash-JS copies the prefix", () => {
    const rng = new Rng(6);
    const [H, Hkv, S, D] = [6, 3, 40, 16];
    const kFull = randn([1, Hkv, S, D], rng);
    const vFull = randn([1, Hkv, S, D], rng);
    for (const [Tq, keys, window] of [
      [1, 29, undefined],
      [1, 40, undefined],
      [3, 17, 5],
    ] as const) {
      const q = randn([1, H, Tq, D], rng);
      const o = { causal: true, window, blockQ: 16, blockK: 16 };
      const noGradRun = () => {
        const [k, v] = [slice(kFull, 2, 0, keys), slice(vFull, 2, 0, keys)];
        const want = [
          flashAttention(q, k, v, { ...o, backend }),
          flashAttention(q, k, v, { ...o, backend: jsBackend }),
          withBackend(jsBackend, () => standardAttention(q, k, v, o)),
          withBackend(backend, () => standardAttention(q, k, v, o)),
        ];
        const got = [
          flashAttention(q, kFull, vFull, { ...o, keys, backend }),
          flashAttention(q, kFull, vFull, { ...o, keys, backend: jsBackend }),
          withBackend(jsBackend, () => standardAttention(q, kFull, vFull, { ...o, keys })),
          withBackend(backend, () => standardAttention(q, kFull, vFull, { ...o, keys })),
        ];
        for (let i = 0; i < want.length; i++) expect(got[i]!.toArray()).toEqual(want[i]!.toArray());
        for (const t of [k, v, ...want, ...got]) t.dispose();
      };
      noGrad(noGradRun);
      // under autograd Standard attends over a copy of the prefix: the prefix's gradients bit for bit
      const up = randn([1, H, Tq, D], rng);
      const gradsOf = (full: boolean) =>
        scope(() => {
          const [qg, kg, vg] = [q, kFull, vFull].map((t) =>
            tensor(t.toArray(), t.shape, { requiresGrad: true }),
          );
          const out = full
            ? standardAttention(qg!, kg!, vg!, { ...o, keys })
            : standardAttention(qg!, slice(kg!, 2, 0, keys), slice(vg!, 2, 0, keys), o);
          return grad(out, [qg!, kg!, vg!], { grad: up }).map((g) => g!.toArray());
        });
      expect(gradsOf(true)).toEqual(gradsOf(false));
      for (const t of [q, up]) t.dispose();
    }
    for (const keys of [0, 41, 2.5])
      for (const attend of [standardAttention, flashAttention])
        expect(() => noGrad(() => attend(kFull, kFull, vFull, { causal: true, keys }))).toThrow(
          /keys must be an integer in \[1, 40\]/,
        );
  });

  it("one mask rule: issue 14's non-causal window case gives [550, 550] on Standard, Flash-JS and Flash-WASM", () => {
    // q = [0, 0] (uniform scores), k of length 4, v = [1, 10, 100, 1000], window 2: each query sees the
    // last two keys, so both outputs are (100 + 1000) / 2.
    const q = tensor([0, 0], [1, 1, 2, 1]);
    const k = tensor([0, 0, 0, 0], [1, 1, 4, 1]);
    const v = tensor([1, 10, 100, 1000], [1, 1, 4, 1]);
    const o = { causal: false, window: 2 };
    const results = noGrad(() => [
      standardAttention(q, k, v, o),
      flashAttention(q, k, v, { ...o, backend: jsBackend }),
      flashAttention(q, k, v, { ...o, backend }),
      naiveAttention(q, k, v, o),
    ]);
    for (const r of results) expect(r.toArray()).toEqual([550, 550]);
  });
});
