/**
 * Property tests for `parseConfig` on hostile input: arbitrary strings only ever yield a
 * Configuration or a typed ConfigError/ValueError; option names that are Object.prototype members
 * and repeated options are refused; generated configurations round-trip through their labels.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, ValueError } from "./errors.js";
import { parseConfig, type Registry } from "./parse.js";
import { compose, defineStrategy, type Strategy } from "./strategy.js";

// One strategy per option type the parser types: int (with inf), number, bool, bytes, choice, positional.
const flash = defineStrategy({
  name: "Flash",
  slot: "attention",
  description: "fuzz flash",
  options: {
    block: { type: "int", default: 64, min: 1, max: 4096, doc: "tile" },
    causal: { type: "bool", default: true, doc: "mask" },
  },
  labelOptions: ["block"],
  plan: (p) => p,
  exec: () => ({ attend: (q) => q }),
});
const ckpt = defineStrategy({
  name: "Ckpt",
  slot: "checkpoint",
  description: "fuzz checkpointing",
  options: {
    policy: { type: "choice", default: "every", choices: ["every", "sqrt", "budget"], doc: "policy" },
    every: { type: "int", default: 1, min: 1, allowInfinity: true, doc: "k" },
    budget: { type: "bytes", default: 0, doc: "bytes" },
  },
  positional: "policy",
  labelOptions: ["policy"],
  plan: (p) => p,
  exec: () => ({ segments: () => [] }),
});
const nf4 = defineStrategy({
  name: "NF4",
  slot: "weights",
  description: "fuzz nf4",
  options: {
    block: { type: "int", default: 64, min: 8, max: 256, doc: "block" },
    dq: { type: "bool", default: false, doc: "double quant" },
    scale: { type: "number", default: 1, min: 0, allowInfinity: true, doc: "x" },
  },
  plan: (p) => p,
  exec: () => ({ pack: () => ({}) as never }),
});
const gqa = defineStrategy({
  name: "GQA",
  slot: "heads",
  description: "fuzz gqa",
  options: { kvHeads: { type: "int", default: 2, min: 1, max: 64, doc: "kv heads" } },
  plan: (p) => p,
  exec: () => ({ convertKv: (w) => w }),
});
const lora = defineStrategy({
  name: "LoRA",
  slot: "adapters",
  description: "fuzz lora",
  options: { rank: { type: "int", default: 8, min: 1, max: 1024, doc: "rank" } },
  plan: (p) => p,
  exec: () => ({ targets: [], wrap: (b) => b }),
});
const registry = {
  Flash: flash,
  Ckpt: ckpt,
  NF4: nf4,
  GQA: gqa,
  LoRA: lora,
  Baseline: { name: "Baseline", description: "nothing", expand: () => [] },
  QLoRA: { name: "QLoRA", description: "NF4+LoRA", expand: () => [nf4({ dq: true }), lora()] },
} satisfies Registry;

/** Run the parser; return the configuration, or the error if it is one of the typed ones. */
function parseTyped(text: string) {
  try {
    return parseConfig(text, registry);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof ValueError) return e;
    throw new Error(`parseConfig(${JSON.stringify(text)}) threw an untyped ${String(e)}`);
  }
}

const PROTO_NAMES = [
  "constructor",
  "__proto__",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__defineGetter__",
  "__lookupGetter__",
];

/**
 * Any code point, lone surrogates included, half of them ASCII so brackets and separators are common
 * (fast-check's own "binary" unit costs seconds to warm up).
 */
const codePoint = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x10ffff }))
  .map((c) => String.fromCodePoint(c));

describe("parseConfig on bad input", () => {
  it("refuses option names that are Object.prototype members, in strings and in code", () => {
    for (const key of PROTO_NAMES) {
      for (const text of [`Flash[${key}=1]`, `Ckpt[sqrt,${key}=1]`, `LoRA[${key}]`]) {
        const r = parseTyped(text);
        expect(r, text).toBeInstanceOf(ConfigError);
        expect((r as ConfigError).message, text).toMatch(
          new RegExp(`unknown option '${key}'|'${key}' needs a key`),
        );
      }
      // The factory itself (strategies built in code) refuses them too.
      const opts = JSON.parse(`{"${key}": 1}`) as Record<string, number>;
      expect(() => flash(opts), key).toThrow(new RegExp(`Flash: unknown option '${key}'`));
    }
    // A prototype name as the strategy name is an unknown strategy, not a crash.
    for (const name of ["constructor", "toString", "__proto__"]) {
      expect(parseTyped(name), name).toBeInstanceOf(ConfigError);
    }
  });

  it("refuses an option given twice, however it is spelled", () => {
    const cases: [string, RegExp][] = [
      ["Flash[block=32,block=64]", /Flash: option 'block' is given twice in \[block=32,block=64\]/],
      ["Flash[block=32, BLOCK=32]", /option 'block' is given twice/],
      ["Flash[causal, causal=false]", /option 'causal' is given twice/],
      ["Ckpt[sqrt, every]", /Ckpt: option 'policy' is given twice/],
      ["Ckpt[sqrt, policy=every]", /option 'policy' is given twice/],
      ["NF4[dq,dq]", /option 'dq' is given twice/],
      ["Flash[x=1,x=2]", /option 'x' is given twice/],
    ];
    for (const [text, msg] of cases) {
      const r = parseTyped(text);
      expect(r, text).toBeInstanceOf(ConfigError);
      expect((r as ConfigError).message, text).toMatch(msg);
    }
    // Different options, or the positional word beside another option, are not repeats.
    expect(parseConfig("Ckpt[budget, budget=64MiB]", registry).label).toBe(
      "Ckpt[policy=budget,budget=64MiB]",
    );
    expect(parseConfig("Flash[block=32]+Ckpt[every=2]", registry).label).toBe(
      "Flash[block=32]+Ckpt[policy=every,every=2]",
    );
  });

  it("never throws anything but ConfigError or ValueError on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: codePoint, maxLength: 80 }), (s) => {
        parseTyped(s);
      }),
      { numRuns: 1500 },
    );
  });

  it("never throws anything but ConfigError or ValueError on configuration-shaped strings", () => {
    const word = fc.constantFrom(
      ...Object.keys(registry),
      ...PROTO_NAMES,
      "block",
      "BLOCK",
      "every",
      "sqrt",
      "budget",
      "dq",
      "causal",
      "kvHeads",
      "rank",
      "policy",
      "scale",
      "",
    );
    const value = fc.oneof(
      fc.constantFrom("inf", "-inf", "NaN", "1e400", "0x10", "64MiB", "1.5GB", "true", "no", "", " "),
      fc.integer({ min: -5, max: 5000 }).map(String),
      fc.double().map(String),
      fc.string({ maxLength: 6 }),
    );
    const option = fc.oneof(
      word,
      fc.tuple(word, value).map(([k, v]) => `${k}=${v}`),
    );
    const term = fc.oneof(
      word,
      fc
        .tuple(
          word,
          fc.array(option, { maxLength: 4 }),
          fc.constantFrom("[", "[[", ""),
          fc.constantFrom("]", "]]", ""),
        )
        .map(([n, opts, open, close]) => `${n}${open}${opts.join(",")}${close}`),
    );
    const text = fc
      .tuple(fc.array(term, { maxLength: 5 }), fc.constantFrom("+", " + ", "++", ",", "+]"))
      .map(([terms, sep]) => terms.join(sep));
    fc.assert(
      fc.property(text, (s) => {
        parseTyped(s);
      }),
      { numRuns: 1500 },
    );
  });
});

describe("parseConfig round trip", () => {
  /** A valid strategy of each slot, with generated option values. */
  const strategyArb: fc.Arbitrary<Strategy> = fc.oneof(
    fc.record({ block: fc.integer({ min: 1, max: 4096 }), causal: fc.boolean() }).map((o) => flash(o)),
    fc
      .record({
        policy: fc.constantFrom("every", "sqrt", "budget"),
        every: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.POSITIVE_INFINITY)),
        budget: fc.oneof(
          fc.nat(10_000),
          fc.integer({ min: 1, max: 4096 }).map((k) => k * 2 ** 10),
          fc.integer({ min: 1, max: 64 }).map((k) => k * 2 ** 30),
        ),
      })
      .map((o) => ckpt(o)),
    fc
      .record({
        block: fc.integer({ min: 8, max: 256 }),
        dq: fc.boolean(),
        scale: fc.oneof(
          fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true }),
          fc.constant(Number.POSITIVE_INFINITY),
        ),
      })
      .map((o) => nf4(o)),
    fc.integer({ min: 1, max: 64 }).map((kvHeads) => gqa({ kvHeads })),
    fc.integer({ min: 1, max: 1024 }).map((rank) => lora({ rank })),
  );
  const configArb = fc
    .uniqueArray(strategyArb, { selector: (s) => s.slot, maxLength: 5 })
    .map((ss) => compose(ss));

  it("parse(label(x)) equals x for generated valid configurations", () => {
    fc.assert(
      fc.property(configArb, (cfg) => {
        const again = parseConfig(cfg.label, registry);
        expect(again.label).toBe(cfg.label);
        expect(again.strategies.map((s) => [s.name, s.options])).toEqual(
          cfg.strategies.map((s) => [s.name, s.options]),
        );
        expect(parseConfig(again.label, registry).label).toBe(cfg.label);
      }),
      { numRuns: 500 },
    );
  });

  it("the way a user writes it (any order, case, spacing) does not change the result", () => {
    const written = configArb.chain((cfg) =>
      fc
        .tuple(
          fc.shuffledSubarray([...cfg.strategies], { minLength: cfg.strategies.length }),
          fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
          fc.constantFrom("+", " + ", "+ "),
        )
        .map(([order, upper, sep]) => {
          let i = 0;
          const flip = (s: string) =>
            [...s].map((c) => (upper[i++ % upper.length] ? c.toUpperCase() : c.toLowerCase())).join("");
          // Names and option keys are case-insensitive; choice values too. Numbers keep their case.
          const text = order
            .map((s) => s.label.replace(/[A-Za-z_]+(?==|\[|,|\]|$)/g, flip).replace(/,/g, ", "))
            .join(sep);
          return { cfg, text: text === "" ? "Baseline" : text };
        }),
    );
    fc.assert(
      fc.property(written, ({ cfg, text }) => {
        expect(parseConfig(text, registry).label, text).toBe(cfg.label);
      }),
      { numRuns: 300 },
    );
  });
});
