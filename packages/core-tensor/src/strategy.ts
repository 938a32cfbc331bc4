/**
 * The Strategy contract. A strategy is a small frozen object made by a factory named after it:
 * `name` (the CLI word), `slot`, typed `options`, a canonical `label`, a pure `plan()` and the slot's
 * executable part (`exec`, slot-exec.ts). Composition is compose.ts.
 */
import { ConfigError, closestMatch, ValueError } from "./errors.js";
import type { ArchSpec, Plan } from "./plan.js";
import type { Slot, SlotExec } from "./slot-exec.js";

/** A strategy option's value: numbers (including byte sizes and `Infinity`), booleans and choice words. */
export type OptionValue = number | boolean | string;

// The slots' executable parts and composition live in their own files; re-exported here so
// `./strategy.js` stays the one import for the contract.
export {
  type Composable,
  type CompositionRule,
  type Configuration,
  compose,
  compositionRules,
  withDefaults,
} from "./compose.js";
export {
  type AdaptersExec,
  type AttendOptions,
  type AttentionExec,
  type BackendExec,
  type CheckpointExec,
  type FfnExec,
  type FfnModule,
  type FfnSpec,
  type HeadsExec,
  type KvCache,
  type KvCacheSpec,
  type KvDtypeExec,
  type KvMemoryExec,
  type KvStore,
  type LinearWeight,
  SLOTS,
  type Slot,
  type SlotExec,
  type WeightsExec,
} from "./slot-exec.js";

// ---------------------------------------------------------------------------------------------
// Strategies and factories.

/** Context for rules that need the model (GQA's kvHeads must divide the heads). */
export interface RuleContext {
  /** The model's architecture, when the strategy is checked against one. */
  readonly arch?: ArchSpec | undefined;
}

/**
 * One space-time technique filling one slot (`flash()`, `gqa()`, `int8()`, …): a small frozen object with
 * its options, a canonical label, a pure `plan()` for the estimator and the slot's executable part. Combine
 * strategies with `compose()`.
 */
export interface Strategy<S extends Slot = Slot> {
  /** The name configurations and the CLI use (`Flash`, `GQA`). */
  readonly name: string;
  /** The slot this strategy fills. */
  readonly slot: S;
  /** Every option, defaults filled in (frozen). */
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

/** A strategy's options by name, each with its type, range, default and doc. */
export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

/** The typed option values an `OptionsSpec` describes (booleans, choice strings, numbers). */
export type OptionsOf<O extends OptionsSpec> = {
  readonly [K in keyof O]: O[K] extends { type: "bool" }
    ? boolean
    : O[K] extends { type: "choice" }
      ? string
      : number;
};

/**
 * Everything `defineStrategy` needs to build a factory: name, slot, options, the plan and exec builders, and
 * rules.
 */
export interface StrategyDefinition<S extends Slot, O extends OptionsSpec> {
  /** The name configurations and the CLI use. */
  readonly name: string;
  /** The slot the strategy fills. */
  readonly slot: S;
  /** One line for `pnpm compare list` and the docs. */
  readonly description: string;
  /** The options: type, range, default, doc. */
  readonly options: O;
  /**
   * A bare word in brackets (`Ckpt[sqrt]`) sets this option: a choice whose choices include the
   * word, or a bool set to true when the word is the option's name.
   */
  readonly positional?: keyof O & string;
  /** Options shown in the label even when default; others appear only when set. Default: all. */
  readonly labelOptions?: readonly (keyof O & string)[];
  /** Pure: the plan with this strategy's cost hooks set for `options`. */
  plan(p: Plan, options: OptionsOf<O>): Plan;
  /** Builds the slot's executable part for `options` (called on first use). */
  exec(options: OptionsOf<O>): SlotExec[S];
  /** Problems with `options` in a context (empty when fine); collected with every other problem. */
  rules?(options: OptionsOf<O>, ctx: RuleContext): string[];
}

/** A factory: `flash({ block: 32 })`. Carries its definition for the parser and docs. */
export interface StrategyFactory<S extends Slot = Slot, O extends OptionsSpec = OptionsSpec> {
  /**
   * Makes the strategy; options not given take their defaults. Invalid or unknown options throw one
   * `ConfigError` listing every problem.
   */
  (options?: Partial<Record<keyof O & string, OptionValue>>): Strategy<S>;
  /** The definition the factory was made from (read by the configuration parser and `list`). */
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
