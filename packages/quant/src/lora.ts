/**
 * `LoRA[rank=8,alpha=16,targets=qv]`: trainable low-rank adapters on frozen linear layers (Hu et al.
 * 2021). y = base(x) + (alpha/rank)·(x·Aᵀ)·Bᵀ with A [rank, in] ~ U(±1/√in) (PEFT's Kaiming-uniform
 * default) and B [out, rank] = 0, so a fresh adapter leaves the output unchanged. A and B live in the
 * ledger's `adapters` category; the base (any weights format) is frozen and gets no gradient.
 * Not here: dropout on the adapter input, or merging the adapter into a quantised base.
 */
import {
  add,
  defineStrategy,
  type LinearWeight,
  matmul,
  type Rng,
  rand,
  reshape,
  scale,
  scope,
  type Tensor,
  ValueError,
  zeros,
} from "@tradeoffs/core-tensor";

/**
 * The `targets` grammar: a named set of linear-layer roles. Attention projections are `q`, `k`, `v`,
 * `o`; the SwiGLU FFN's are `gate`, `up`, `down`.
 */
export const LORA_TARGETS = {
  qv: ["q", "v"],
  qk: ["q", "k"],
  qkv: ["q", "k", "v"],
  qkvo: ["q", "k", "v", "o"],
  ffn: ["gate", "up", "down"],
  all: ["q", "k", "v", "o", "gate", "up", "down"],
} as const satisfies Record<string, readonly string[]>;

/** Which projections LoRA adapts: `qv` (default), `qk`, `qkv`, `qkvo`, `ffn` or `all`. */
export type LoraTargets = keyof typeof LORA_TARGETS;

/** A frozen base layer plus a trainable low-rank update. Owns (and disposes) its base. */
export class LoraLinear implements LinearWeight {
  /** The frozen base layer (owned: disposed with this one). */
  readonly base: LinearWeight;
  /** Adapter rank r. */
  readonly rank: number;
  /** Scale numerator: the update is (alpha/rank)·B·A. */
  readonly alpha: number;
  /** [rank, in], category `adapters`. */
  readonly a: Tensor;
  /** [out, rank], category `adapters`, zero at start. */
  readonly b: Tensor;
  /** The base's format plus `+LoRA`, e.g. `NF4[block=64,dq=true]+LoRA`. */
  readonly format: string;

  constructor(base: LinearWeight, options: { rank: number; alpha: number; rng: Rng; role?: string }) {
    const { rank, alpha, rng } = options;
    if (!(Number.isInteger(rank) && rank >= 1)) {
      throw new ValueError(`LoRA: rank must be a positive integer, got ${rank}`, { rank });
    }
    this.base = base;
    this.rank = rank;
    this.alpha = alpha;
    this.format = `${base.format}+LoRA`;
    // Freeze the base: an FP32 base's weight stops requiring grad, so it gets no gradient.
    for (const p of base.parameters()) p.requiresGrad = false;
    const bound = 1 / Math.sqrt(base.inFeatures);
    this.a = rand([rank, base.inFeatures], rng, { low: -bound, high: bound, category: "adapters" });
    try {
      this.b = zeros([base.outFeatures, rank], { category: "adapters" });
    } catch (e) {
      this.a.dispose(); // the caller still owns `base`
      throw e;
    }
    this.a.requiresGrad = true;
    this.b.requiresGrad = true;
    const role = options.role ?? "linear";
    this.a.name = `lora.${role}.A`;
    this.b.name = `lora.${role}.B`;
  }

  /** Input width (the base's). */
  get inFeatures(): number {
    return this.base.inFeatures;
  }
  /** Output width (the base's). */
  get outFeatures(): number {
    return this.base.outFeatures;
  }
  /** Base bytes plus adapter bytes. */
  get bytes(): number {
    return this.base.bytes + this.a.bytes + this.b.bytes;
  }
  /** Bytes of A and B. */
  get adapterBytes(): number {
    return this.a.bytes + this.b.bytes;
  }

  /** x [..., in] → base(x) + (alpha/rank)·(x·Aᵀ)·Bᵀ [..., out]. */
  apply(x: Tensor): Tensor {
    return scope(() => {
      const y = this.base.apply(x); // [..., out]
      const x2 = x.rank === 1 ? reshape(x, [1, x.size]) : x; // matmul needs rank ≥ 2
      const h = matmul(x2, this.a, { transB: true }); // [..., rank]
      const u = reshape(matmul(h, this.b, { transB: true }), y.shape); // [..., out]
      return add(y, scale(u, this.alpha / this.rank));
    });
  }

  /** Only the adapters train. */
  parameters(): Tensor[] {
    return [this.a, this.b];
  }

  /** Base + adapters: no single f32 tensor to hand out (`dequantize()` merges them). */
  f32Weight(): null {
    return null;
  }

  /** W + (alpha/rank)·B·A as f32 [out, in] in `tmp`. */
  dequantize(): Tensor {
    return scope(() => add(this.base.dequantize(), scale(matmul(this.b, this.a), this.alpha / this.rank)));
  }

  /** Releases the adapters and the base. */
  dispose(): void {
    this.a.dispose();
    this.b.dispose();
    this.base.dispose();
  }
}

/**
 * The `LoRA[rank,alpha,targets]` adapters strategy: trainable low-rank updates (alpha/rank)·B·A on frozen
 * linear layers of the `targets` projections.
 */
export const lora = defineStrategy({
  name: "LoRA",
  slot: "adapters",
  description: "trainable low-rank adapters (A, B) on frozen linear layers",
  options: {
    rank: { type: "int", default: 8, min: 1, doc: "adapter rank r" },
    alpha: { type: "number", default: 16, min: 0, doc: "scale numerator: the update is (alpha/rank)·B·A" },
    targets: {
      type: "choice",
      default: "qv",
      choices: Object.keys(LORA_TARGETS),
      doc: "layers to adapt: qv, qk, qkv, qkvo (attention), ffn (gate, up, down) or all",
    },
  },
  plan: (p, o) => ({
    ...p,
    adapters: { rank: o.rank, targets: [...LORA_TARGETS[o.targets as LoraTargets]] },
  }),
  exec: (o) => {
    const targets: readonly string[] = LORA_TARGETS[o.targets as LoraTargets];
    return {
      targets,
      wrap(base: LinearWeight, role: string, rng: Rng): LinearWeight {
        if (!targets.includes(role)) {
          throw new ValueError(
            `LoRA[targets=${o.targets}] does not adapt role '${role}'; it adapts ${targets.join(", ")} (set targets=all to adapt every linear layer)`,
            { role, targets },
          );
        }
        return new LoraLinear(base, { rank: o.rank, alpha: o.alpha, rng, role });
      },
    };
  },
});
