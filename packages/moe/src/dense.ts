/**
 * `Dense`: the SwiGLU feed-forward block of Llama, down(silu(gate(x)) ⊙ up(x)). Its linears come from
 * the configuration's weights (and adapters) strategies.
 */
import {
  type AdaptersExec,
  defineStrategy,
  type FfnModule,
  type FfnSpec,
  type LinearWeight,
  mul,
  type Rng,
  randn,
  scope,
  silu,
  type Tensor,
  type WeightsExec,
} from "@tradeoffs/core-tensor";

/** Make a linear layer [out, in] with N(0, std²) init, packed in the configured format. */
export function makeLinear(
  out: number,
  inp: number,
  std: number,
  weights: WeightsExec,
  adapters: AdaptersExec | null,
  role: string,
  rng: Rng,
  category: string,
): LinearWeight {
  const w = randn([out, inp], rng, { std });
  let packed: LinearWeight;
  try {
    packed = weights.pack(w, category);
  } finally {
    w.dispose();
  }
  return adapt(packed, adapters, role, rng);
}

/** Like `makeLinear`, but takes the initial weight from `spec.init(name)` when it provides one. */
export function initLinear(
  spec: FfnSpec,
  name: string,
  role: string,
  out: number,
  inp: number,
  std: number,
): LinearWeight {
  const given = spec.init?.(name, [out, inp]) ?? null;
  if (given === null)
    return makeLinear(out, inp, std, spec.weights, spec.adapters, role, spec.rng, spec.category);
  return adapt(spec.weights.pack(given, spec.category), spec.adapters, role, spec.rng);
}

/** Wrap a packed linear in the configured adapters when they target `role`. */
function adapt(packed: LinearWeight, adapters: AdaptersExec | null, role: string, rng: Rng): LinearWeight {
  if (!adapters?.targets.includes(role)) return packed;
  try {
    return adapters.wrap(packed, role, rng);
  } catch (e) {
    packed.dispose();
    throw e;
  }
}

/** Build each part in order; if one throws, dispose the ones already built and rethrow. */
export function allOrNothing<T extends { dispose(): void }>(makers: readonly (() => T)[]): T[] {
  const made: T[] = [];
  try {
    for (const make of makers) made.push(make());
  } catch (e) {
    for (const m of made) m.dispose();
    throw e;
  }
  return made;
}

/**
 * Llama's SwiGLU feed-forward block, `down(silu(gate(x)) * up(x))`: the `Dense` FFN and each MoE
 * expert.
 */
export class SwiGlu implements FfnModule {
  /** Gate projection [hidden, dModel]. */
  readonly gate: LinearWeight;
  /** Up projection [hidden, dModel]. */
  readonly up: LinearWeight;
  /** Down projection [dModel, hidden]. */
  readonly down: LinearWeight;

  constructor(gate: LinearWeight, up: LinearWeight, down: LinearWeight) {
    this.gate = gate;
    this.up = up;
    this.down = down;
  }

  /** `prefix` names the matrices for `spec.init` (`experts.3.` inside an MoE). */
  static create(spec: FfnSpec, prefix = ""): SwiGlu {
    const { dModel, hidden } = spec;
    const std = 0.02;
    const [gate, up, down] = allOrNothing([
      () => initLinear(spec, `${prefix}gate`, "gate", hidden, dModel, std),
      () => initLinear(spec, `${prefix}up`, "up", hidden, dModel, std),
      () => initLinear(spec, `${prefix}down`, "down", dModel, hidden, std / Math.sqrt(2)),
    ]);
    return new SwiGlu(gate!, up!, down!);
  }

  /** Intermediates are freed as soon as they are dead: peak tmp is x + silu(gate) + up + their product. */
  forward(x: Tensor): Tensor {
    return scope(() => {
      const g = this.gate.apply(x);
      const sg = silu(g);
      g.dispose();
      const u = this.up.apply(x);
      const m = mul(sg, u);
      sg.dispose();
      u.dispose();
      const out = this.down.apply(m);
      m.dispose();
      return out;
    });
  }

  /** The trainable tensors (for an optimizer). */
  parameters(): Tensor[] {
    return [...this.gate.parameters(), ...this.up.parameters(), ...this.down.parameters()];
  }

  /** The weights by name (`gate`, `up`, `down`), for checkpoint files and quantization. */
  namedWeights(): Map<string, LinearWeight | Tensor> {
    return new Map<string, LinearWeight>([
      ["gate", this.gate],
      ["up", this.up],
      ["down", this.down],
    ]);
  }

  /** Frees the three weights. */
  dispose(): void {
    this.gate.dispose();
    this.up.dispose();
    this.down.dispose();
  }
}

/** `Dense`: the baseline SwiGLU feed-forward block (the oracle for `MoE[experts=1,topK=1]`). */
export const dense = defineStrategy({
  name: "Dense",
  slot: "ffn",
  description: "Dense SwiGLU feed-forward block",
  options: {},
  plan: (p) => ({
    ...p,
    arch: { ...p.arch, experts: 1, topK: 1, sharedExperts: 0, capacity: Number.POSITIVE_INFINITY },
  }),
  exec: () => ({ create: (spec: FfnSpec) => SwiGlu.create(spec) }),
});
