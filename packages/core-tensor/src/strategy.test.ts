/**
 * The Strategy contract on strategies defined here for the test: option typing and validation
 * (every problem at once), canonical labels, pure plans, `compose`, `withDefaults`, the
 * configuration parser, and a label → parse → label round trip over generated option values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, closestMatch, ValueError } from "./errors.js";
import { js } from "./js-backend.js";
import { parseConfig, type Registry } from "./parse.js";
import type { Plan } from "./plan.js";
import {
  compose,
  defineStrategy,
  formatOption,
  parseBytes,
  type Strategy,
  withDefaults,
} from "./strategy.js";

let execBuilds = 0;
const flash = defineStrategy({
  name: "Flash",
  slot: "attention",
  description: "test flash",
  options: { block: { type: "int", default: 64, min: 1, max: 4096, doc: "tile" } },
  plan: (p, o) => ({ ...p, attention: { ...p.attention, keysPerQuery: () => o.block } }),
  exec: () => {
    execBuilds++;
    return { attend: (q) => q };
  },
});
const ckpt = defineStrategy({
  name: "Ckpt",
  slot: "checkpoint",
  description: "test checkpointing",
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
  description: "test nf4",
  options: {
    block: { type: "int", default: 64, min: 8, max: 256, doc: "block" },
    dq: { type: "bool", default: false, doc: "double quant" },
    scale: { type: "number", default: 1, min: 0, allowInfinity: true, doc: "x" },
  },
  plan: (p, o) => ({ ...p, weights: { ...p.weights, format: "nf4", bitsPerWeight: 4 + 32 / o.block } }),
  exec: () => ({ pack: () => ({}) as never }),
});
const gqa = defineStrategy({
  name: "GQA",
  slot: "heads",
  description: "test gqa",
  options: { kvHeads: { type: "int", default: 2, min: 1, doc: "kv heads" } },
  plan: (p, o) => ({ ...p, arch: { ...p.arch, kvHeads: o.kvHeads } }),
  exec: () => ({ convertKv: (w) => w }),
  rules: (o, ctx) =>
    ctx.arch && ctx.arch.heads % o.kvHeads !== 0
      ? [`GQA: kvHeads=${o.kvHeads} must divide heads=${ctx.arch.heads}`]
      : o.kvHeads === 3
        ? ["GQA: kvHeads=3 is refused by this test rule"]
        : [],
});
const lora = defineStrategy({
  name: "LoRA",
  slot: "adapters",
  description: "test lora",
  options: { rank: { type: "int", default: 8, min: 1, doc: "rank" } },
  plan: (p, o) => ({ ...p, adapters: { rank: o.rank, targets: ["q", "v"] } }),
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

describe("defineStrategy", () => {
  it("fills defaults, freezes options and builds a canonical label", () => {
    const f = flash();
    expect(f.name).toBe("Flash");
    expect(f.slot).toBe("attention");
    expect(f.options).toEqual({ block: 64 });
    expect(Object.isFrozen(f) && Object.isFrozen(f.options)).toBe(true);
    expect(f.label).toBe("Flash[block=64]");
    expect(flash({ block: 32 }).label).toBe("Flash[block=32]");
    expect(nf4({ dq: true, block: 128 }).label).toBe(nf4({ block: 128, dq: "on" }).label);
    expect(nf4({ dq: true, block: 128 }).label).toBe("NF4[block=128,dq=true,scale=1]");
    // labelOptions: defaults of other options are hidden, set values shown, in definition order.
    expect(ckpt().label).toBe("Ckpt[policy=every]");
    expect(ckpt({ budget: "64MiB", policy: "budget" }).label).toBe("Ckpt[policy=budget,budget=64MiB]");
    expect(ckpt({ every: "inf" }).options.every).toBe(Number.POSITIVE_INFINITY);
    expect(ckpt({ every: "inf" }).label).toBe("Ckpt[policy=every,every=inf]");
    expect(flash.definition.name).toBe("Flash");
  });

  it("builds exec lazily, once", () => {
    const f = flash();
    const before = execBuilds;
    expect(execBuilds).toBe(before);
    const e1 = f.exec;
    expect(f.exec).toBe(e1);
    expect(execBuilds).toBe(before + 1);
  });

  it("validates types and ranges, reporting every problem at once", () => {
    let err: unknown;
    try {
      nf4({ block: 4, dq: "maybe", scale: "abc", blok: 3 } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const p = (err as ConfigError).problems;
    expect(p).toHaveLength(4);
    expect(p.join("\n")).toContain(
      "unknown option 'blok' (did you mean 'block'?); options: block, dq, scale",
    );
    expect(p.join("\n")).toContain("option 'block' must be in 8..256, got '4'");
    expect(p.join("\n")).toContain("option 'dq' must be true or false, got 'maybe'");
    expect(p.join("\n")).toContain("option 'scale' must be a number in 0..inf, got 'abc'");
    expect((err as ConfigError).message).toMatch(/^4 problems:/);
    expect(() => flash({ block: 1.5 })).toThrow(/must be an integer in 1..4096/);
    expect(() => flash({ block: "inf" })).toThrow(/must be an integer/);
    expect(() => ckpt({ policy: "never" })).toThrow(/must be one of every, sqrt, budget/);
    expect(() => ckpt({ budget: "12 parsecs" })).toThrow(/byte size such as/);
    expect(() => gqa({ kvHeads: 3 })).toThrow(/refused by this test rule/);
    expect(ckpt({ policy: "SQRT" }).options.policy).toBe("sqrt");
  });

  it("plan() is pure: a new plan, the input untouched", () => {
    const base = deepFreeze({
      arch: { heads: 8, kvHeads: 8 },
      attention: { keysPerQuery: (_tq: number, tk: number) => tk },
      weights: { format: "fp32", bitsPerWeight: 32 },
    }) as unknown as Plan;
    const cfg = compose(flash({ block: 16 }), gqa(), nf4());
    const p = cfg.plan(base);
    expect(p).not.toBe(base);
    expect(p.attention.keysPerQuery(8, 100)).toBe(16);
    expect(base.attention.keysPerQuery(8, 100)).toBe(100);
    expect(p.arch.kvHeads).toBe(2);
    expect(p.weights.bitsPerWeight).toBe(4.5);
    expect(base.arch.kvHeads).toBe(8);
    expect(js().plan(base).backend.name).toBe("JS");
    expect(js().plan(base).backend.matmulWorkspaceBytes(1e6)).toBe(0);
  });
});

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

describe("compose", () => {
  it("flattens, drops falsy entries and orders by slot; the user's order never matters", () => {
    const a = compose([nf4(), false, [null, flash()]], undefined, compose(gqa()));
    const b = compose(gqa(), flash(), nf4());
    expect(a.label).toBe("Flash[block=64]+GQA[kvHeads=2]+NF4[block=64,dq=false,scale=1]");
    expect(b.label).toBe(a.label);
    expect(a.strategies.map((s) => s.slot)).toEqual(["attention", "heads", "weights"]);
    expect(a.get("heads")?.options.kvHeads).toBe(2);
    expect(a.get("ffn")).toBeUndefined();
    expect(compose().label).toBe("Baseline");
  });

  it("collects every problem: two per slot in two slots, and each strategy's own rules", () => {
    let err: unknown;
    try {
      compose(flash(), flash({ block: 8 }), nf4(), nf4({ dq: true }));
    } catch (e) {
      err = e;
    }
    const p = (err as ConfigError).problems;
    expect(p).toHaveLength(2);
    expect(p[0]).toBe("slot 'attention' has 2 strategies (Flash[block=64], Flash[block=8]); keep one");
    expect(p[1]).toMatch(/slot 'weights' has 2 strategies/);
    const cfg = compose(gqa({ kvHeads: 4 }));
    expect(cfg.check({ arch: { heads: 6 } as never })).toEqual(["GQA: kvHeads=4 must divide heads=6"]);
    expect(cfg.check({ arch: { heads: 8 } as never })).toEqual([]);
  });

  it("withDefaults fills empty slots and keeps the user's label", () => {
    const cfg = compose(flash({ block: 32 }));
    const filled = withDefaults(cfg, [flash(), nf4(), lora()]);
    expect(filled.label).toBe("Flash[block=32]");
    expect(filled.strategies.map((s) => s.label)).toEqual([
      "Flash[block=32]",
      "NF4[block=64,dq=false,scale=1]",
      "LoRA[rank=8]",
    ]);
    expect(withDefaults(compose(), [lora()]).label).toBe("Baseline");
  });
});

describe("parseConfig", () => {
  it("parses names case-insensitively with typed values, inf, byte sizes and positional words", () => {
    const c = parseConfig(" flash[BLOCK=32] + gqa[kvHeads=4]+ckpt[sqrt]+nf4[dq,scale=inf]", registry);
    expect(c.label).toBe("Flash[block=32]+GQA[kvHeads=4]+NF4[block=64,dq=true,scale=inf]+Ckpt[policy=sqrt]");
    expect(c.get("weights")?.options.scale).toBe(Number.POSITIVE_INFINITY);
    expect(parseConfig("Ckpt[budget, budget=64MiB]", registry).get("checkpoint")?.options).toEqual({
      policy: "budget",
      every: 1,
      budget: 64 * 2 ** 20,
    });
    expect(parseConfig("Ckpt[every=inf]", registry).get("checkpoint")?.options.every).toBe(Infinity);
    expect(parseConfig("Baseline", registry).label).toBe("Baseline");
    expect(parseConfig("QLoRA+Flash", registry).label).toBe(
      "Flash[block=64]+NF4[block=64,dq=true,scale=1]+LoRA[rank=8]",
    );
  });

  it("reports unknown names with the closest match and the known names", () => {
    expect(() => parseConfig("Flsh", registry)).toThrow(
      "unknown strategy 'Flsh' (did you mean 'Flash'?); known: Flash, Ckpt, NF4, GQA, LoRA, Baseline, QLoRA",
    );
    expect(closestMatch("zzzzzz", ["Flash"])).toBeUndefined();
  });

  it("reports all problems at once", () => {
    let err: unknown;
    try {
      parseConfig(
        "Flsh+GQA[kvHeads=x]+NF4[blok=3]+Ckpt[never]+Flash[1]+LoRA[rank=0]+[x]+QLoRA[r=1]",
        registry,
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const p = (err as ConfigError).problems;
    expect(p).toEqual([
      expect.stringContaining("unknown strategy 'Flsh' (did you mean 'Flash'?)"),
      expect.stringContaining("GQA: option 'kvHeads' must be an integer"),
      expect.stringContaining("NF4: unknown option 'blok' (did you mean 'block'?)"),
      expect.stringContaining("Ckpt: option 'policy' must be one of every, sqrt, budget, got 'never'"),
      expect.stringContaining("Flash: '1' needs a key (key=value); options: block"),
      expect.stringContaining("LoRA: option 'rank' must be in 1..∞, got '0'"),
      "'[x]' is not of the form Name or Name[key=value,...]",
      "'QLoRA' takes no options, got [r=1]",
    ]);
    expect(() => parseConfig("Flash+flash[block=8]", registry)).toThrow(/slot 'attention' has 2 strategies/);
    expect(() => parseConfig("  ", registry)).toThrow(/empty configuration; use 'Baseline'/);
  });

  it("round-trips label → parse → label over generated option values (property)", () => {
    const strategyArb: fc.Arbitrary<Strategy> = fc.oneof(
      fc.integer({ min: 1, max: 4096 }).map((block) => flash({ block })),
      fc
        .record({
          policy: fc.constantFrom("every", "sqrt", "budget"),
          every: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.POSITIVE_INFINITY)),
          budget: fc.oneof(
            fc.nat(5000),
            fc.integer({ min: 1, max: 4096 }).map((k) => k * 2 ** 20),
            fc.integer({ min: 1, max: 8 }).map((k) => k * 2 ** 30),
          ),
        })
        .map((o) => ckpt(o)),
      fc
        .record({
          block: fc.integer({ min: 8, max: 256 }),
          dq: fc.boolean(),
          scale: fc.oneof(
            fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }),
            fc.constant(Number.POSITIVE_INFINITY),
          ),
        })
        .map((o) => nf4(o)),
      fc.constantFrom(1, 2, 4, 8).map((kvHeads) => gqa({ kvHeads })),
      fc.integer({ min: 1, max: 512 }).map((rank) => lora({ rank })),
    );
    fc.assert(
      fc.property(fc.uniqueArray(strategyArb, { selector: (s) => s.slot, maxLength: 5 }), (ss) => {
        const cfg = compose(ss);
        const again = parseConfig(cfg.label, registry);
        expect(again.label).toBe(cfg.label);
        expect(again.strategies.map((s) => s.options)).toEqual(cfg.strategies.map((s) => s.options));
      }),
      { numRuns: 300 },
    );
  });
});

describe("option helpers", () => {
  it("parseBytes and formatOption", () => {
    expect(parseBytes("1048576")).toBe(2 ** 20);
    expect(parseBytes("512KiB")).toBe(512 * 1024);
    expect(parseBytes("64mib")).toBe(64 * 2 ** 20);
    expect(parseBytes("2GiB")).toBe(2 * 2 ** 30);
    expect(parseBytes("1.5GB")).toBe(1.5e9);
    expect(parseBytes("10 MB")).toBe(1e7);
    expect(parseBytes("lots")).toBeNaN();
    const bytes = { type: "bytes", default: 0, doc: "" } as const;
    expect(formatOption(bytes, 3 * 2 ** 30)).toBe("3GiB");
    expect(formatOption(bytes, 1536)).toBe("1536");
    expect(formatOption(bytes, 1536 * 1024)).toBe("1536KiB");
    expect(formatOption({ type: "int", default: 0, doc: "" }, Number.POSITIVE_INFINITY)).toBe("inf");
    expect(() => flash({ block: -1 })).toThrow(ConfigError);
    expect(new ValueError("x").code).toBe("E_VALUE");
  });
});
