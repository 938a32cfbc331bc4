/**
 * One decoder layer: RMSNorm → attention (RoPE, K/V heads, the configured kernel through `kvAttend`)
 * → residual → RMSNorm → FFN → residual. Intermediates are freed as soon as they are dead, in the
 * order `layer-tensors.ts` describes. Not here: building the weights (build.ts), the stack (transformer.ts).
 */
import {
  type ArchSpec,
  add,
  type FfnModule,
  type LinearWeight,
  reshape,
  rmsNorm,
  rope,
  scope,
  type Tensor,
  transpose,
} from "@tradeoffs/core-tensor";

/**
 * Attention for one layer given this step's q [B, H, T, D] and k, v [B, Hkv, T, D]: store K/V where
 * the caller keeps them (a KV cache) and attend over everything cached. Must not dispose q, k, v.
 */
export type KvAttend = (layer: number, q: Tensor, k: Tensor, v: Tensor) => Tensor;

/** One decoder layer: its norms, attention projections and FFN, and its forward. */
export class Layer {
  readonly attnNorm: Tensor;
  readonly ffnNorm: Tensor;
  readonly q: LinearWeight;
  readonly k: LinearWeight;
  readonly v: LinearWeight;
  readonly o: LinearWeight;
  readonly ffn: FfnModule;

  constructor(parts: {
    attnNorm: Tensor;
    ffnNorm: Tensor;
    q: LinearWeight;
    k: LinearWeight;
    v: LinearWeight;
    o: LinearWeight;
    ffn: FfnModule;
  }) {
    this.attnNorm = parts.attnNorm;
    this.ffnNorm = parts.ffnNorm;
    this.q = parts.q;
    this.k = parts.k;
    this.v = parts.v;
    this.o = parts.o;
    this.ffn = parts.ffn;
  }

  /**
   * x [B, T, d] → [B, T, d]; attention through `kvAttend` (which stores K/V where the caller
   * keeps them). Intermediates are disposed as soon as they are dead, so `tmp` holds what the
   * estimator models (`layerTmpElements`); under autograd the saved ones live on as `act`.
   */
  forward(
    x: Tensor,
    arch: ArchSpec,
    positions: readonly number[],
    kvAttend: KvAttend,
    index: number,
  ): Tensor {
    return scope(() => {
      const [B, T] = x.shape as [number, number, number];
      const { heads: H, kvHeads: Hkv, headDim: D } = arch;
      const heads = (lin: Tensor, n: number, rotate: boolean): Tensor => {
        const split = reshape(lin, [B, T, n, D]); // a view: dispose it too, or it keeps lin alive
        const t = transpose(split, [0, 2, 1, 3]); // (B, n, T, D)
        split.dispose();
        lin.dispose();
        if (!rotate) return t;
        const r = rope(t, positions, arch.ropeTheta);
        t.dispose();
        return r;
      };
      const h = rmsNorm(x, this.attnNorm, arch.normEps); // (B, T, d)
      const ql = this.q.apply(h);
      const kl = this.k.apply(h);
      const vl = this.v.apply(h);
      h.dispose();
      const q = heads(ql, H, true); // (B, H, T, D)
      const k = heads(kl, Hkv, true); // (B, Hkv, T, D)
      const v = heads(vl, Hkv, false); // (B, Hkv, T, D)
      const o = kvAttend(index, q, k, v); // (B, H, T, D)
      q.dispose();
      k.dispose();
      v.dispose();
      const merged = transpose(o, [0, 2, 1, 3]); // (B, T, H, D)
      o.dispose();
      const flat = reshape(merged, [B, T, H * D]);
      const ao = this.o.apply(flat); // (B, T, d)
      flat.dispose();
      merged.dispose();
      const x2 = add(x, ao);
      ao.dispose();
      const h2 = rmsNorm(x2, this.ffnNorm, arch.normEps);
      const f = this.ffn.forward(h2);
      h2.dispose();
      const out = add(x2, f);
      f.dispose();
      x2.dispose();
      return out;
    });
  }

  parameters(): Tensor[] {
    return [
      this.attnNorm,
      ...this.q.parameters(),
      ...this.k.parameters(),
      ...this.v.parameters(),
      ...this.o.parameters(),
      this.ffnNorm,
      ...this.ffn.parameters(),
    ];
  }

  dispose(): void {
    for (const w of [this.q, this.k, this.v, this.o]) w.dispose();
    this.ffn.dispose();
    this.attnNorm.dispose();
    this.ffnNorm.dispose();
  }
}
