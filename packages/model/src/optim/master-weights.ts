/**
 * bf16 parameters, with or without an f32 master copy (mixed-precision training, Micikevicius et al.
 * 2018). With master weights the optimizer updates an f32 copy (ledger `optim`, 4 B/param) and the
 * parameters receive its bf16 rounding; without, each update lands on the bf16 value itself, so
 * steps below half a bf16 ulp are lost. The executable model computes in f32: parameters hold
 * bf16-representable values in f32 tensors (the `weights` bytes do not halve). Not here: the rules.
 */
import { bf16ToF32, clone, f32ToBF16, type Tensor } from "@tradeoffs/core-tensor";
import { type Optimizer, zeroGrads } from "./optimizer.js";

/** Round every element of `t` to the nearest bf16 value (ties to even), in place. */
export function roundToBf16(t: Tensor): void {
  const d = t.data;
  for (let j = 0; j < d.length; j++) d[j] = bf16ToF32(f32ToBF16(d[j]!));
}

/** An optimizer over bf16 parameters: `makeInner` builds the update rule over the tensors it updates. */
export class Bf16Params implements Optimizer {
  /** The inner optimizer's name. */
  readonly name: string;
  /** The tensors this optimizer updates. */
  readonly params: readonly Tensor[];
  /** Whether an f32 master copy (ledger `optim`) receives the updates. */
  readonly masterWeights: boolean;
  readonly #inner: Optimizer;
  #masters: Tensor[] = [];

  /** Round `params` to bf16 (after copying them to f32 masters when `masterWeights`) and build the rule with `makeInner`. */
  constructor(
    params: readonly Tensor[],
    makeInner: (targets: readonly Tensor[]) => Optimizer,
    masterWeights: boolean,
  ) {
    this.params = params;
    this.masterWeights = masterWeights;
    if (masterWeights) {
      // The master copy keeps the full-precision starting weights; the parameters become their bf16 cast.
      const made: Tensor[] = [];
      try {
        for (const p of params) made.push(clone(p, { category: "optim" }));
      } catch (e) {
        for (const t of made) t.dispose();
        throw e;
      }
      this.#masters = made;
    }
    try {
      this.#inner = makeInner(masterWeights ? this.#masters : params);
    } catch (e) {
      for (const t of this.#masters) t.dispose();
      throw e;
    }
    this.name = this.#inner.name;
    for (const p of params) roundToBf16(p);
  }

  /** {@inheritDoc Optimizer.step} */
  step(lr?: number): number {
    if (!this.masterWeights) {
      const norm = this.#inner.step(lr);
      for (const p of this.params) if (p.grad) roundToBf16(p);
      return norm;
    }
    // The masters borrow the parameters' gradients for one update (the parameters keep owning them).
    this.#masters.forEach((m, i) => {
      m.grad = this.params[i]!.grad;
    });
    try {
      return this.#inner.step(lr);
    } finally {
      this.#masters.forEach((m, i) => {
        m.grad = null;
        const p = this.params[i]!;
        if (!p.grad) return;
        p.data.set(m.data);
        roundToBf16(p);
      });
    }
  }

  /** {@inheritDoc Optimizer.zeroGrad} */
  zeroGrad(): void {
    zeroGrads(this.params);
  }

  /** {@inheritDoc Optimizer.dispose} */
  dispose(): void {
    this.zeroGrad();
    this.#inner.dispose();
    for (const t of this.#masters) t.dispose();
    this.#masters = [];
  }
}
