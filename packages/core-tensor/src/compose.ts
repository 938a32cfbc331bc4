/**
 * Composition: `compose()` turns strategies into a `Configuration` — one per slot, ordered by slot,
 * validated by named rules that report every problem at once — and `withDefaults()` fills empty
 * slots. Not here: defining a strategy (strategy.ts).
 */
import { ConfigError } from "./errors.js";
import type { Plan } from "./plan.js";
import { SLOTS, type Slot } from "./slot-exec.js";
import type { RuleContext, Strategy } from "./strategy.js";

/** Strategies composed into one configuration: at most one per slot, ordered by slot. */
export interface Configuration {
  /** Ordered by slot. */
  readonly strategies: readonly Strategy[];
  /** `Flash[block=64]+GQA[kvHeads=2]`, or `Baseline` when empty. */
  readonly label: string;
  /** The strategy filling `slot`, or `undefined` when the configuration leaves it to the model's default. */
  get<S extends Slot>(slot: S): Strategy<S> | undefined;
  /** Apply every strategy's `plan()` in slot order. */
  plan(p: Plan): Plan;
  /** Problems against a model architecture (all of them). */
  check(ctx: RuleContext): string[];
}

/**
 * What `compose()` accepts: strategies, configurations and (nested) arrays of them; falsy entries are
 * dropped, so `cond && flash()` works.
 */
export type Composable = Strategy | Configuration | readonly Composable[] | false | null | undefined;

/** A named rule over the strategies of a composition. */
export interface CompositionRule {
  /** Rule name, shown with each problem it finds. */
  readonly name: string;
  /** One message per problem in `strategies` (empty when the rule holds). */
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
