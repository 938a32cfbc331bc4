/**
 * `MoE[experts,topK,capacity]`: a mixture of SwiGLU experts. A router (linear dModel → E, f32) scores
 * the experts; each token goes to its top-k with gates renormalised over those k; tokens are grouped
 * per expert so each expert runs one batched forward on its rows; outputs are scaled by the gates and
 * scatter-added back. Capacity drops overflow, shared experts see every token, and training adds the
 * Switch load-balancing loss and the ST-MoE z-loss through `auxLoss()`. Not the dense block (dense.ts).
 */
import {
  add,
  ConfigError,
  clone,
  concat,
  defineStrategy,
  type FfnModule,
  type FfnSpec,
  gatherRows,
  isGradEnabled,
  keep,
  type LinearWeight,
  matmul,
  mul,
  narrow,
  randn,
  reshape,
  ShapeError,
  scale,
  scatterAddRows,
  scope,
  softmax,
  type Tensor,
  tensor,
  zeros,
} from "@tradeoffs/core-tensor";
import { loadBalancingLoss, routerZLoss } from "./aux-loss.js";
import { allOrNothing, SwiGlu } from "./dense.js";
import { coefficientOfVariation, dispatchTokens } from "./dispatch.js";
import { routeTopK } from "./router.js";

/** Std of the router's N(0, σ²) init: the same as the block's other linears. */
export const ROUTER_INIT_STD = 0.02;

/** The options of `MoE[...]` (see `moe.definition.options` for their docs and ranges). */
export interface MoeOptions {
  /** Routed experts E. */
  readonly experts: number;
  /** Experts each token is routed to (k ≤ E). */
  readonly topK: number;
  /** Capacity factor c (Infinity = dropless). */
  readonly capacity: number;
  /** Weight of the load-balancing loss. */
  readonly aux: number;
  /** Weight of the router z-loss. */
  readonly zloss: number;
  /** Always-on shared experts. */
  readonly shared: number;
}

/** The trainable parts of an MoE block. */
export interface MoeParts {
  /** Router weight [E, dModel], f32 (trainable). Owned by the module from now on. */
  readonly router: Tensor;
  /** E routed experts, each x [n, dModel] → [n, dModel]. */
  readonly experts: readonly FfnModule[];
  /** Shared experts applied to every token. */
  readonly shared: readonly FfnModule[];
}

/** Statistics of the last forward (a type alias, so it fits `FfnModule.stats()`'s record). */
export type MoeStats = {
  readonly tokens: number;
  /** Per-expert limit ⌈tokens·k/E·c⌉ (Infinity when dropless). */
  readonly capacity: number;
  /** [E] assignments the router sent to each expert. */
  readonly routedPerExpert: readonly number[];
  /** [E] assignments each expert processed (after capacity). */
  readonly tokensPerExpert: readonly number[];
  /** Assignments dropped by capacity. */
  readonly dropped: number;
  /** Coefficient of variation (std/mean) of the routed load; 0 = perfectly balanced. */
  readonly cv: number;
};

/** A mixture-of-experts feed-forward block. */
export class MoeFfn implements FfnModule {
  /** Router weight [E, dModel], f32, trainable. */
  readonly router: Tensor;
  /** The E routed experts. */
  readonly experts: readonly FfnModule[];
  /** The shared experts (every token). */
  readonly shared: readonly FfnModule[];
  /** The parsed `MoE[...]` options. */
  readonly options: MoeOptions;
  /** Model width d. */
  readonly dModel: number;
  #aux: Tensor | null = null;
  /** Statistics of the last forward (per-expert counts only; the index lists are not kept). */
  #last: MoeStats | null = null;

  constructor(parts: MoeParts, options: MoeOptions) {
    const { router, experts, shared } = parts;
    if (router.rank !== 2 || router.dim(0) !== options.experts) {
      throw new ShapeError(
        "MoE",
        `router must be [experts=${options.experts}, dModel], got [${router.shape}]`,
      );
    }
    const problems = moeProblems(options);
    if (experts.length !== options.experts) {
      problems.push(
        `MoE: ${experts.length} expert modules given for experts=${options.experts}; pass one per expert`,
      );
    }
    if (shared.length !== options.shared) {
      problems.push(
        `MoE: ${shared.length} shared expert modules given for shared=${options.shared}; pass one each`,
      );
    }
    if (problems.length > 0) throw new ConfigError(problems, { strategy: "MoE" });
    this.router = router;
    this.router.requiresGrad = true;
    this.experts = [...experts];
    this.shared = [...shared];
    this.options = options;
    this.dModel = router.dim(1);
  }

  /**
   * Build from `spec`: each matrix from `spec.init` (`experts.3.up`, `shared.0.gate`, `router`) when it
   * gives one, else random. Experts are drawn first, then shared experts, then the router, so
   * `MoE[experts=1]` from a seed has the very weights `Dense` draws from that seed.
   */
  static create(spec: FfnSpec, options: MoeOptions): MoeFfn {
    const problems = moeProblems(options);
    if (problems.length > 0) throw new ConfigError(problems, { strategy: "MoE" });
    const shape = [options.experts, spec.dModel] as const;
    // Experts, then shared experts, then the router; a failure frees everything built before it.
    const parts = allOrNothing<SwiGlu | Tensor>([
      ...Array.from({ length: options.experts }, (_, i) => () => SwiGlu.create(spec, `experts.${i}.`)),
      ...Array.from({ length: options.shared }, (_, i) => () => SwiGlu.create(spec, `shared.${i}.`)),
      () => {
        const given = spec.init?.("router", shape) ?? null;
        if (given && given.shape.join() !== shape.join()) {
          throw new ShapeError("MoE.create", `init('router') gave [${given.shape}], need [${shape}]`);
        }
        return given
          ? clone(given, { category: spec.category, dtype: "f32" })
          : randn(shape, spec.rng, { std: ROUTER_INIT_STD, category: spec.category });
      },
    ]);
    const experts = parts.slice(0, options.experts) as SwiGlu[];
    const shared = parts.slice(options.experts, options.experts + options.shared) as SwiGlu[];
    const router = parts[parts.length - 1] as Tensor;
    return new MoeFfn({ router, experts, shared }, options);
  }

  /** x [..., dModel] → [..., dModel]. */
  forward(x: Tensor): Tensor {
    const d = x.dim(-1);
    if (d !== this.dModel) {
      throw new ShapeError("MoE.forward", `input [${x.shape}] must end in dModel=${this.dModel}`);
    }
    const { experts: E, topK: k, capacity, aux, zloss } = this.options;
    const N = d === 0 ? 0 : x.size / d;
    const training = isGradEnabled();
    this.#aux?.dispose();
    this.#aux = null;
    return scope(() => {
      const x2 = reshape(x, [N, d]);
      const logits = matmul(x2, this.router, { transB: true }); // [N, E]
      const { indices, gates } = routeTopK(logits, k); // [N, k] each
      const plan = dispatchTokens(indices.int32, N, k, E, capacity);
      this.#last = {
        tokens: N,
        capacity: plan.capacity,
        routedPerExpert: Array.from(plan.routed),
        tokensPerExpert: Array.from(plan.kept),
        dropped: plan.dropped,
        cv: coefficientOfVariation(plan.routed),
      };
      const M = plan.tokenIds.length;
      let out: Tensor;
      if (M > 0) {
        const ids = tensor(plan.tokenIds, [M], { dtype: "i32" });
        const slots = tensor(plan.slotIds, [M], { dtype: "i32" });
        const xs = gatherRows(x2, ids); // [M, d], grouped by expert
        const parts: Tensor[] = [];
        for (let e = 0; e < E; e++) {
          const a = plan.offsets[e]!;
          const b = plan.offsets[e + 1]!;
          // An idle expert still runs (on 0 rows) in training, so each parameter gets a (zero) gradient.
          if (b > a || training) parts.push(this.experts[e]!.forward(narrow(xs, a, b))); // [n_e, d]
        }
        const ys = parts.length === 1 ? parts[0]! : concat(parts, 0); // [M, d]
        const g = gatherRows(reshape(gates, [N * k, 1]), slots); // [M, 1]
        out = scatterAddRows(zeros([N, d]), ids, mul(ys, g)); // [N, d]
      } else out = zeros([N, d]);
      for (const s of this.shared) out = add(out, s.forward(x2));
      if (training && (aux > 0 || zloss > 0)) {
        let total: Tensor | null = null;
        if (aux > 0) total = scale(loadBalancingLoss(softmax(logits), plan.routed, k), aux);
        if (zloss > 0) {
          const z = scale(routerZLoss(logits), zloss);
          total = total ? add(total, z) : z;
        }
        this.#aux = keep(total!);
      }
      return reshape(out, x.shape);
    });
  }

  /**
   * aux · load-balancing + zloss · z-loss of the last forward, as a one-element tensor to add to the
   * training loss; null when both weights are 0 or the last forward ran without grad. The module
   * owns the tensor (freed by the next forward or `dispose()`).
   */
  auxLoss(): Tensor | null {
    return this.#aux && !this.#aux.disposed ? this.#aux : null;
  }

  /** Routing statistics of the last forward (expert load, dropped tokens). */
  stats(): MoeStats {
    if (this.#last) return this.#last;
    const z = new Array<number>(this.options.experts).fill(0);
    return { tokens: 0, capacity: 0, routedPerExpert: z, tokensPerExpert: z, dropped: 0, cv: 0 };
  }

  /** Trainable tensors: experts, shared experts, then the router. */
  parameters(): Tensor[] {
    return [
      ...this.experts.flatMap((e) => e.parameters()),
      ...this.shared.flatMap((e) => e.parameters()),
      this.router,
    ];
  }

  /** `experts.<i>.<gate|up|down>`, `shared.<i>.<...>`, `router`. */
  namedWeights(): Map<string, LinearWeight | Tensor> {
    const m = new Map<string, LinearWeight | Tensor>();
    this.experts.forEach((e, i) => {
      for (const [k, w] of e.namedWeights()) m.set(`experts.${i}.${k}`, w);
    });
    this.shared.forEach((e, i) => {
      for (const [k, w] of e.namedWeights()) m.set(`shared.${i}.${k}`, w);
    });
    m.set("router", this.router);
    return m;
  }

  /** Free the weights and the held auxiliary loss. */
  dispose(): void {
    this.#aux?.dispose();
    this.#aux = null;
    for (const e of this.experts) e.dispose();
    for (const e of this.shared) e.dispose();
    this.router.dispose();
  }
}

/** Problems with a set of MoE options (empty when fine). */
export function moeProblems(o: MoeOptions): string[] {
  const problems: string[] = [];
  if (o.topK > o.experts) {
    problems.push(`MoE: topK=${o.topK} exceeds experts=${o.experts}; use topK in 1..${o.experts}`);
  }
  if (!(o.capacity > 0)) {
    problems.push(`MoE: capacity=${o.capacity} must be > 0 (a factor such as 1.25) or inf (dropless)`);
  }
  return problems;
}

/**
 * `MoE[experts=8,topK=2,capacity=inf]` (also `aux=0.01`, `zloss=0`, `shared=0`): the mixture-of-experts
 * `ffn` strategy; `moe({ experts: 8, topK: 2, capacity: 1.25 })`.
 */
export const moe = defineStrategy({
  name: "MoE",
  slot: "ffn",
  description: "Mixture of SwiGLU experts: top-k routing, capacity, load-balancing loss",
  options: {
    experts: { type: "int", default: 8, min: 1, max: 1024, doc: "routed experts E (Mixtral: 8)" },
    topK: { type: "int", default: 2, min: 1, max: 1024, doc: "experts per token k (Mixtral: 2)" },
    capacity: {
      type: "number",
      default: Number.POSITIVE_INFINITY,
      min: 0,
      allowInfinity: true,
      doc: "capacity factor c: each expert takes at most ⌈tokens·k/E·c⌉ tokens; inf = dropless",
    },
    aux: {
      type: "number",
      default: 0.01,
      min: 0,
      doc: "weight of the Switch load-balancing loss E·Σ f_e·P_e (Switch Transformer: 0.01)",
    },
    zloss: {
      type: "number",
      default: 0,
      min: 0,
      doc: "weight of the router z-loss mean(logsumexp²) (ST-MoE: 0.001); 0 = off",
    },
    shared: {
      type: "int",
      default: 0,
      min: 0,
      max: 64,
      doc: "shared experts applied to every token (DeepSeekMoE)",
    },
  },
  labelOptions: ["experts", "topK", "capacity"],
  plan: (p, o) => ({
    ...p,
    arch: { ...p.arch, experts: o.experts, topK: o.topK, capacity: o.capacity, sharedExperts: o.shared },
  }),
  exec: (o) => ({ create: (spec: FfnSpec) => MoeFfn.create(spec, o) }),
  rules: (o) => moeProblems(o),
});
