/**
 * Property tests for the CLI's numeric options: any string is either a valid number of the option's
 * kind or commander's InvalidArgumentError naming the option — never NaN, a negative size, a
 * fraction or an exception of another type reaching the user.
 */
import { InvalidArgumentError } from "commander";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nonNegativeInt, parseBudget, positiveInt } from "./options.js";

const anyText = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom("", " ", "-0", "1e3", "0x10", "Infinity", "NaN", "2MiB", "1.5", "007", "1_000"),
);

function outcome<T>(f: () => T): T | InvalidArgumentError {
  try {
    return f();
  } catch (e) {
    if (e instanceof InvalidArgumentError) return e;
    throw e; // any other exception fails the property
  }
}

describe("CLI numeric options", () => {
  it("positiveInt gives a positive safe integer or an error naming the option", () => {
    fc.assert(
      fc.property(anyText, (v) => {
        const r = outcome(() => positiveInt("--batch")(v));
        if (r instanceof InvalidArgumentError) expect(r.message).toContain("--batch");
        else expect(Number.isInteger(r) && r > 0).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("nonNegativeInt gives a non-negative safe integer (0 included) or an error naming the option", () => {
    fc.assert(
      fc.property(anyText, (v) => {
        const r = outcome(() => nonNegativeInt("--generate")(v));
        if (r instanceof InvalidArgumentError) expect(r.message).toContain("--generate");
        else expect(Number.isSafeInteger(r) && r >= 0).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(nonNegativeInt("--generate")("0")).toBe(0);
  });

  it("parseBudget gives a positive whole number of bytes or an error", () => {
    fc.assert(
      fc.property(anyText, (v) => {
        const r = outcome(() => parseBudget(v));
        if (!(r instanceof InvalidArgumentError)) expect(Number.isInteger(r) && r > 0).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
