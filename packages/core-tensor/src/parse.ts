/**
 * Configuration strings: `Name[key=value,...]+Name+...`. Names are case-insensitive; values are typed
 * by the strategy's option spec (`int`, `number` with `inf`, `bool`, `bytes` with KiB/MiB/GiB,
 * `choice`); a bare word sets the strategy's positional option (`Ckpt[sqrt]`). Every problem in the
 * string is reported at once, unknown names with the closest known one.
 */
import { ConfigError, closestMatch } from "./errors.js";
import {
  type Composable,
  type Configuration,
  compose,
  type OptionsSpec,
  type OptionValue,
  type Slot,
  type Strategy,
} from "./strategy.js";

/** A name that expands to several strategies (`QLoRA` = `NF4[dq=true]+LoRA`, `Baseline` = none). */
export interface NamedComposition {
  /** The name users type (`QLoRA`). */
  readonly name: string;
  /** One line for `list` and the docs. */
  readonly description: string;
  /** The strategies the name stands for (`QLoRA` → `NF4` + `LoRA`). */
  expand(): Composable;
}

/** What the parser needs of a factory (every `StrategyFactory` is one). */
export interface RegistryFactory {
  /** Makes the strategy from (untyped) options, as the parser does. */
  (options?: Partial<Record<string, OptionValue>>): Strategy;
  /** What the parser and `list` read: name, slot, description, options and the positional option. */
  readonly definition: {
    readonly name: string;
    readonly slot: Slot;
    readonly description: string;
    readonly options: OptionsSpec;
    readonly positional?: string | undefined;
  };
}

/** A registry value: a strategy factory, or a name for a composition of several. */
export type RegistryEntry = RegistryFactory | NamedComposition;

/** The names users type, mapped to factories (build it as a typed const map). */
export type Registry = Readonly<Record<string, RegistryEntry>>;

function isFactory(e: RegistryEntry): e is RegistryFactory {
  return typeof e === "function";
}

/** The CLI word of a registry entry. */
export function entryName(e: RegistryEntry): string {
  return isFactory(e) ? e.definition.name : e.name;
}

/** Split at top-level separators (outside brackets). */
function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (ch === sep && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** Parse one configuration string against a registry; throws one `ConfigError` with every problem. */
export function parseConfig(text: string, registry: Registry): Configuration {
  const problems: string[] = [];
  const items: Composable[] = [];
  const byName = new Map<string, RegistryEntry>();
  for (const e of Object.values(registry)) byName.set(entryName(e).toLowerCase(), e);
  const known = [...byName.values()].map(entryName);
  const trimmed = text.trim();
  if (trimmed === "") {
    throw new ConfigError([
      `empty configuration; use 'Baseline' or names such as ${known.slice(0, 4).join(", ")}`,
    ]);
  }
  for (const rawTerm of splitTop(trimmed, "+")) {
    const term = rawTerm.trim();
    const m = /^([A-Za-z][A-Za-z0-9_-]*)\s*(?:\[([^\]]*)\])?$/.exec(term);
    if (!m) {
      problems.push(`'${term}' is not of the form Name or Name[key=value,...]`);
      continue;
    }
    const name = m[1]!;
    const entry = byName.get(name.toLowerCase());
    if (!entry) {
      const near = closestMatch(name, known);
      problems.push(
        `unknown strategy '${name}'${near ? ` (did you mean '${near}'?)` : ""}; known: ${known.join(", ")}`,
      );
      continue;
    }
    if (!isFactory(entry)) {
      if (m[2] !== undefined && m[2].trim() !== "")
        problems.push(`'${entry.name}' takes no options, got [${m[2]}]`);
      else items.push(entry.expand());
      continue;
    }
    const def = entry.definition;
    // No prototype: an option named `__proto__` or `constructor` is an ordinary (unknown) key.
    const given: Record<string, OptionValue> = Object.create(null);
    const set = (key: string, value: OptionValue) => {
      if (Object.hasOwn(given, key)) {
        problems.push(`${def.name}: option '${key}' is given twice in [${m[2]}]; give it once`);
      } else given[key] = value;
    };
    const body = m[2]?.trim() ?? "";
    for (const part of body === "" ? [] : splitTop(body, ",")) {
      const p = part.trim();
      const eq = p.indexOf("=");
      if (eq >= 0) {
        const key = p.slice(0, eq).trim();
        const canonical = Object.keys(def.options).find((k) => k.toLowerCase() === key.toLowerCase()) ?? key;
        set(canonical, p.slice(eq + 1).trim());
        continue;
      }
      const asBool = Object.entries(def.options).find(
        ([k, s]) => s.type === "bool" && k.toLowerCase() === p.toLowerCase(),
      );
      if (asBool) set(asBool[0], true);
      else if (def.positional) set(def.positional, p);
      else {
        const keys = Object.keys(def.options);
        problems.push(
          `${def.name}: '${p}' needs a key (key=value); ${keys.length ? `options: ${keys.join(", ")}` : "it takes no options"}`,
        );
      }
    }
    try {
      items.push(entry(given));
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
    }
  }
  if (problems.length === 0) {
    try {
      return compose(...items);
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
    }
  }
  throw new ConfigError(problems, { input: text });
}
