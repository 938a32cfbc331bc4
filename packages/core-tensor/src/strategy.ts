/**
 * The Strategy contract. A strategy is a small frozen object made by a factory named after it:
 * `name` (the CLI word), `slot`, typed `options`, a canonical `label`, a pure `plan()` and the slot's
 * executable part (`exec`). `compose()` turns strategies into a `Configuration`: one per slot,
 * ordered by slot, validated by named rules that report every problem at once.
 */
import type { Backend } from "./backend.js";
import { ConfigError, closestMatch, ValueError } from "./errors.js";
import type { ArchSpec, Plan } from "./plan.js";
import type { Rng } from "./rng.js";
import type { Tensor } from "./tensor.js";

/** Slots in the order a configuration lists them. */
export const SLOTS = [
  "backend",
  "attention",
  "heads",
  "weights",
  "adapters",
  "checkpoint",
  "ffn",
  "kv-dtype",
  "kv-memory",
] as const;
export type Slot = (typeof SLOTS)[number];

export type OptionValue = number | boolean | string;

// ---------------------------------------------------------------------------------------------
// The executable part of each slot.

/** Options of one attention call. q [B, H, Tq, D]; k, v [B, Hkv, Tk, D] with H % Hkv = 0. */
export interface AttendOptions {
  /** Causal mask aligned bottom-right: query i sees keys ≤ i + (Tk − Tq). */
  readonly causal: boolean;
  /** Sliding window: each query sees at most the last `window` keys. */
  readonly window?: number | undefined;
  /** Score scale; default 1/√D. */
  readonly scale?: number | undefined;
}

export interface AttentionExec {
  /** Differentiable attention; output [B, H, Tq, D]. Must not copy K/V per query head. */
  attend(q: Tensor, k: Tensor, v: Tensor, options: AttendOptions): Tensor;
}

export interface HeadsExec {
  /**
   * K or V projection rows stored for `fromHeads` heads ([fromHeads·headDim, in], e.g. an MHA
   * checkpoint) converted to this layout's K/V heads for a model with `heads` query heads: a new
   * tensor [kvHeads·headDim, in], where kvHeads is what this strategy's `plan()` sets.
   */
  convertKv(w: Tensor, fromHeads: number, heads: number, headDim: number): Tensor;
}

/** A linear layer's weight in some storage format: y = x · Wᵀ with W [out, in]. */
export interface LinearWeight {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly format: string;
  /** Bytes held in the ledger (data + scales). */
  readonly bytes: number;
  /** x [..., in] → [..., out]; differentiable in x, and in the weight when it is trainable. */
  apply(x: Tensor): Tensor;
  /** Trainable tensors (empty for frozen or quantised weights). */
  parameters(): Tensor[];
  /** The weight as f32 [out, in] (a new tensor in `tmp`, the caller disposes it). */
  dequantize(): Tensor;
  /**
   * The f32 tensor [out, in] this layer multiplies by and trains in place (FP32), owned by the
   * layer (do not dispose it); null when the weight is stored packed or wrapped (use `dequantize()`).
   */
  f32Weight(): Tensor | null;
  dispose(): void;
}

export interface WeightsExec {
  /** Pack an f32 weight [out, in] into this format under `category` (the caller keeps `w`). */
  pack(w: Tensor, category: string): LinearWeight;
}

export interface AdaptersExec {
  /** Linear layers to adapt, by role (`q`, `k`, `v`, `o`, `gate`, `up`, `down`). */
  readonly targets: readonly string[];
  /** Wrap a frozen base layer with trainable adapters (category `adapters`). */
  wrap(base: LinearWeight, role: string, rng: Rng): LinearWeight;
}

export interface CheckpointExec {
  /**
   * Groups of consecutive layers run under one `checkpoint()` each; `[]` keeps everything.
   * `layerActBytes`: activation bytes one layer saves; `layerInputBytes`: bytes of a layer input;
   * `reservedBytes`: activations held outside the layers (embedding, head) that a budget must leave
   * room for.
   */
  segments(
    layers: number,
    layerActBytes: number,
    layerInputBytes: number,
    reservedBytes?: number,
  ): readonly (readonly number[])[];
}

/** A feed-forward block made from a configuration. */
export interface FfnModule {
  /** x [..., dModel] → [..., dModel]. */
  forward(x: Tensor): Tensor;
  parameters(): Tensor[];
  /** Named weights for checkpoints (`gate`, `up`, `down`, `router`, `experts.3.up`, ...). */
  namedWeights(): Map<string, LinearWeight | Tensor>;
  /** Extra loss terms of the last forward (MoE load balancing), already weighted. */
  auxLoss?(): Tensor | null;
  /** Statistics of the last forward (tokens per expert, dropped tokens). */
  stats?(): Readonly<Record<string, number | readonly number[]>>;
  dispose(): void;
}

export interface FfnSpec {
  readonly dModel: number;
  readonly hidden: number;
  readonly weights: WeightsExec;
  readonly adapters: AdaptersExec | null;
  readonly rng: Rng;
  /** Ledger category for the weights; default `weights/ffn`. */
  readonly category: string;
  /**
   * Initial f32 weight for a named matrix (`gate`, `up`, `down`, `router`, `experts.3.up`, ...):
   * trained or converted weights. `null`/absent means random initialisation from `rng`.
   */
  readonly init?: ((name: string, shape: readonly [number, number]) => Tensor | null) | undefined;
}

export interface FfnExec {
  create(spec: FfnSpec): FfnModule;
}

/**
 * Storage for `count` K or V vectors of `dim` elements in some KV dtype, charged to the ledger.
 * Vectors are addressed by index; layout (contiguous or paged) is the cache's business.
 */
export interface KvStore {
  readonly count: number;
  readonly dim: number;
  /** Bytes held in the ledger (values + scales). */
  readonly bytes: number;
  /** Encode one vector from `src[srcOffset .. srcOffset + dim)`. */
  write(index: number, src: Float32Array, srcOffset: number): void;
  /** Decode one vector into `dst[dstOffset .. dstOffset + dim)`. */
  read(index: number, dst: Float32Array, dstOffset: number): void;
  /** The raw f32 elements when the dtype is f32 (zero-copy reads); undefined otherwise. */
  readonly f32: Float32Array | undefined;
  dispose(): void;
}

/** How K/V vectors are stored (the `kv-dtype` slot). */
export interface KvDtypeExec {
  readonly dtype: string;
  /** Bytes per stored element. */
  readonly bytesPerElement: number;
  /** Scale bytes per (token, head) vector (int8 absmax: 4). */
  readonly scaleBytesPerVector: number;
  allocate(count: number, dim: number, category: string): KvStore;
}

export interface KvCacheSpec {
  readonly batch: number;
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly maxSeq: number;
  readonly dtype: KvDtypeExec;
}

/** Per-layer K/V storage for a batch of sequences decoding in lockstep. */
export interface KvCache {
  readonly spec: KvCacheSpec;
  /** Tokens cached so far (per sequence). */
  readonly length: number;
  /** Append new positions for `layer`: k, v [B, Hkv, Tnew, D] (f32). */
  append(layer: number, k: Tensor, v: Tensor): void;
  /** Everything cached for `layer` as f32 [B, Hkv, T, D] (views, or a decoded `tmp` copy). */
  read(layer: number): { k: Tensor; v: Tensor };
  /** Mark `tokens` new positions as complete (after every layer appended them). */
  advance(tokens: number): void;
  dispose(): void;
}

export interface KvMemoryExec {
  createCache(spec: KvCacheSpec): KvCache;
  /**
   * The per-sequence KV store a continuous-batching scheduler serves from, inside `spec.budgetBytes`
   * (contract in `sequence-cache.ts`). Optional: a kv-memory strategy without it cannot be served.
   */
  createSequenceCache?(
    spec: import("./sequence-cache.js").SequenceCacheSpec,
  ): import("./sequence-cache.js").SequenceCache;
}

export interface BackendExec {
  readonly backend: Backend;
}

export interface SlotExec {
  backend: BackendExec;
  attention: AttentionExec;
  heads: HeadsExec;
  weights: WeightsExec;
  adapters: AdaptersExec;
  checkpoint: CheckpointExec;
  ffn: FfnExec;
  "kv-dtype": KvDtypeExec;
  "kv-memory": KvMemoryExec;
}

// ---------------------------------------------------------------------------------------------
// Strategies and factories.

/** Context for rules that need the model (GQA's kvHeads must divide the heads). */
export interface RuleContext {
  readonly arch?: ArchSpec | undefined;
}

export interface Strategy<S extends Slot = Slot> {
  readonly name: string;
  readonly slot: S;
  readonly options: Readonly<Record<string, OptionValue>>;
  /** Canonical label, e.g. `Flash[block=64]`; parsing it gives the same strategy. */
  readonly label: string;
  /** Pure: a new plan with this strategy's knobs set. */
  plan(p: Plan): Plan;
  /** The executable part (built on first use). */
  readonly exec: SlotExec[S];
  /** Problems with this strategy in a context (empty when fine). */
  check(ctx: RuleContext): string[];
}

/** Type and range of one option. */
export type OptionSpec =
  | {
      readonly type: "int";
      readonly default: number;
      readonly min?: number;
      readonly max?: number;
      readonly allowInfinity?: boolean;
      readonly doc: string;
    }
  | {
      readonly type: "number";
      readonly default: number;
      readonly min?: number;
      readonly max?: number;
      readonly allowInfinity?: boolean;
      readonly doc: string;
    }
  | { readonly type: "bool"; readonly default: boolean; readonly doc: string }
  | { readonly type: "bytes"; readonly default: number; readonly doc: string }
  | {
      readonly type: "choice";
      readonly default: string;
      readonly choices: readonly string[];
      readonly doc: string;
    };

export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

export type OptionsOf<O extends OptionsSpec> = {
  readonly [K in keyof O]: O[K] extends { type: "bool" }
    ? boolean
    : O[K] extends { type: "choice" }
      ? string
      : number;
};

export interface StrategyDefinition<S extends Slot, O extends OptionsSpec> {
  readonly name: string;
  readonly slot: S;
  readonly description: string;
  readonly options: O;
  /**
   * A bare word in brackets (`Ckpt[sqrt]`) sets this option: a choice whose choices include the
   * word, or a bool set to true when the word is the option's name.
   */
  readonly positional?: keyof O & string;
  /** Options shown in the label even when default; others appear only when set. Default: all. */
  readonly labelOptions?: readonly (keyof O & string)[];
  plan(p: Plan, options: OptionsOf<O>): Plan;
  exec(options: OptionsOf<O>): SlotExec[S];
  rules?(options: OptionsOf<O>, ctx: RuleContext): string[];
}

/** A factory: `flash({ block: 32 })`. Carries its definition for the parser and docs. */
export interface StrategyFactory<S extends Slot = Slot, O extends OptionsSpec = OptionsSpec> {
  (options?: Partial<Record<keyof O & string, OptionValue>>): Strategy<S>;
  readonly definition: StrategyDefinition<S, O>;
}

/** Format an option value canonically (`inf`, `512MiB` for byte sizes that divide evenly). */
export function formatOption(spec: OptionSpec, v: OptionValue): string {
  if (typeof v === "number") {
    if (v === Number.POSITIVE_INFINITY) return "inf";
    if (spec.type === "bytes") {
      for (const [u, s] of [
        ["GiB", 2 ** 30],
        ["MiB", 2 ** 20],
        ["KiB", 2 ** 10],
      ] as const) {
        if (v >= s && v % s === 0) return `${v / s}${u}`;
      }
    }
    return String(v);
  }
  return String(v);
}

/** Validate and type one option value (from code or from a configuration string). */
export function coerceOption(owner: string, key: string, spec: OptionSpec, raw: OptionValue): OptionValue {
  const bad = (what: string) =>
    new ValueError(`${owner}: option '${key}' ${what}, got '${String(raw)}'`, {
      strategy: owner,
      key,
      value: raw,
    });
  switch (spec.type) {
    case "bool": {
      if (typeof raw === "boolean") return raw;
      const s = String(raw).toLowerCase();
      if (s === "true" || s === "1" || s === "yes" || s === "on") return true;
      if (s === "false" || s === "0" || s === "no" || s === "off") return false;
      throw bad("must be true or false");
    }
    case "choice": {
      const s = String(raw).toLowerCase();
      const hit = spec.choices.find((c) => c.toLowerCase() === s);
      if (!hit) throw bad(`must be one of ${spec.choices.join(", ")}`);
      return hit;
    }
    case "bytes": {
      const n = typeof raw === "number" ? raw : parseBytes(String(raw));
      if (!(Number.isFinite(n) && n >= 0 && Number.isInteger(n))) {
        throw bad("must be a byte size such as 1048576, 512KiB, 64MiB or 2GiB");
      }
      return n;
    }
    case "int":
    case "number": {
      let n: number;
      if (typeof raw === "number") n = raw;
      else {
        const s = String(raw).trim().toLowerCase();
        n = s === "inf" || s === "infinity" ? Number.POSITIVE_INFINITY : s === "" ? Number.NaN : Number(s);
      }
      if (n === Number.POSITIVE_INFINITY && spec.allowInfinity) return n;
      const range = `${spec.min ?? "-∞"}..${spec.max ?? (spec.allowInfinity ? "inf" : "∞")}`;
      if (!Number.isFinite(n) || (spec.type === "int" && !Number.isInteger(n))) {
        throw bad(`must be ${spec.type === "int" ? "an integer" : "a number"} in ${range}`);
      }
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw bad(`must be in ${range}`);
      }
      return n;
    }
  }
}

/** `1048576`, `512KiB`, `64MiB`, `2GiB`, `1.5GB` (decimal units accepted too) → bytes. */
export function parseBytes(s: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(s);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  const u = (m[2] ?? "").toLowerCase();
  const table: Record<string, number> = {
    "": 1,
    b: 1,
    k: 1024,
    kib: 1024,
    kb: 1e3,
    ki: 1024,
    m: 2 ** 20,
    mib: 2 ** 20,
    mb: 1e6,
    mi: 2 ** 20,
    g: 2 ** 30,
    gib: 2 ** 30,
    gb: 1e9,
    gi: 2 ** 30,
    t: 2 ** 40,
    tib: 2 ** 40,
    tb: 1e12,
    ti: 2 ** 40,
  };
  const mult = table[u];
  return mult === undefined ? Number.NaN : Math.round(v * mult);
}

/** Define a strategy: returns its factory (validates options, fills defaults, freezes). */
export function defineStrategy<S extends Slot, O extends OptionsSpec>(
  definition: StrategyDefinition<S, O>,
): StrategyFactory<S, O> {
  const factory = (given: Partial<Record<string, OptionValue>> = {}): Strategy<S> => {
    const problems: string[] = [];
    const opts: Record<string, OptionValue> = {};
    for (const key of Object.keys(given)) {
      if (!Object.hasOwn(definition.options, key)) {
        const near = closestMatch(key, Object.keys(definition.options));
        const known = Object.keys(definition.options);
        problems.push(
          `${definition.name}: unknown option '${key}'${near ? ` (did you mean '${near}'?)` : ""}; ${known.length ? `options: ${known.join(", ")}` : "it takes no options"}`,
        );
      }
    }
    for (const [key, spec] of Object.entries(definition.options)) {
      const raw = given[key];
      try {
        opts[key] = raw === undefined ? spec.default : coerceOption(definition.name, key, spec, raw);
      } catch (e) {
        problems.push((e as Error).message);
        opts[key] = spec.default;
      }
    }
    const typed = Object.freeze(opts) as unknown as OptionsOf<O>;
    if (problems.length === 0 && definition.rules) problems.push(...definition.rules(typed, {}));
    if (problems.length > 0) throw new ConfigError(problems, { strategy: definition.name });
    const shown = definition.labelOptions ?? Object.keys(definition.options);
    const parts = Object.entries(definition.options)
      .filter(([k, spec]) => shown.includes(k) || opts[k] !== spec.default)
      .map(([k, spec]) => `${k}=${formatOption(spec, opts[k]!)}`);
    const label = parts.length ? `${definition.name}[${parts.join(",")}]` : definition.name;
    let exec: SlotExec[S] | undefined;
    return Object.freeze({
      name: definition.name,
      slot: definition.slot,
      options: typed as Readonly<Record<string, OptionValue>>,
      label,
      plan: (p: Plan) => definition.plan(p, typed),
      get exec() {
        exec ??= definition.exec(typed);
        return exec;
      },
      check: (ctx: RuleContext) => definition.rules?.(typed, ctx) ?? [],
    });
  };
  return Object.assign(factory, { definition }) as StrategyFactory<S, O>;
}

// ---------------------------------------------------------------------------------------------
// Composition.

/** Strategies composed into one configuration: at most one per slot, ordered by slot. */
export interface Configuration {
  /** Ordered by slot. */
  readonly strategies: readonly Strategy[];
  /** `Flash[block=64]+GQA[kvHeads=2]`, or `Baseline` when empty. */
  readonly label: string;
  get<S extends Slot>(slot: S): Strategy<S> | undefined;
  /** Apply every strategy's `plan()` in slot order. */
  plan(p: Plan): Plan;
  /** Problems against a model architecture (all of them). */
  check(ctx: RuleContext): string[];
}

export type Composable = Strategy | Configuration | readonly Composable[] | false | null | undefined;

/** A named rule over the strategies of a composition. */
export interface CompositionRule {
  readonly name: string;
  check(strategies: readonly Strategy[]): string[];
}

/**
 * Built-in rules over a composition. A strategy's own rules already ran when its factory built it
 * (an invalid strategy never exists); rules needing the model run in `Configuration.check`.
 */
export const compositionRules: readonly CompositionRule[] = [
  {
    name: "one-strategy-per-slot",
    check: (ss) => {
      const problems: string[] = [];
      for (const slot of SLOTS) {
        const here = ss.filter((s) => s.slot === slot);
        if (here.length > 1) {
          problems.push(
            `slot '${slot}' has ${here.length} strategies (${here.map((s) => s.label).join(", ")}); keep one`,
          );
        }
      }
      return problems;
    },
  },
];

function flatten(items: readonly Composable[], out: Strategy[]): void {
  for (const it of items) {
    if (!it) continue;
    if (Array.isArray(it)) flatten(it, out);
    else if ("strategies" in (it as object)) out.push(...(it as Configuration).strategies);
    else out.push(it as Strategy);
  }
}

/**
 * Compose strategies: flatten arrays and configurations, drop falsy entries, order by slot, and
 * validate with every rule, throwing one `ConfigError` that lists all problems.
 */
export function compose(...items: Composable[]): Configuration {
  const list: Strategy[] = [];
  flatten(items, list);
  const problems = compositionRules.flatMap((r) => r.check(list));
  if (problems.length > 0) throw new ConfigError(problems);
  const ordered = [...list].sort((a, b) => SLOTS.indexOf(a.slot) - SLOTS.indexOf(b.slot));
  return makeConfiguration(ordered);
}

function makeConfiguration(ordered: readonly Strategy[], label?: string): Configuration {
  const frozen = Object.freeze([...ordered]);
  return Object.freeze({
    strategies: frozen,
    label: label ?? (frozen.length ? frozen.map((s) => s.label).join("+") : "Baseline"),
    get: <S extends Slot>(slot: S) => frozen.find((s) => s.slot === slot) as Strategy<S> | undefined,
    plan: (p: Plan) => frozen.reduce((acc, s) => s.plan(acc), p),
    check: (ctx: RuleContext) => frozen.flatMap((s) => s.check(ctx)),
  });
}

/**
 * `config` with every empty slot filled from `defaults` (the configuration's own entries win). The
 * label stays the user's: filling baselines does not rename a configuration.
 */
export function withDefaults(config: Configuration, defaults: readonly Strategy[]): Configuration {
  const filled = [...config.strategies];
  for (const d of defaults) if (!config.get(d.slot)) filled.push(d);
  const ordered = [...filled].sort((a, b) => SLOTS.indexOf(a.slot) - SLOTS.indexOf(b.slot));
  return makeConfiguration(ordered, config.label);
}
