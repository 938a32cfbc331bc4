/**
 * Exception safety, proven by fault injection: an OutOfMemoryError injected at every allocation of a
 * model's creation, a generation and a training step must leave the ledger exactly at its baseline
 * once the caller has disposed what it holds. The ledger is this project's proof of its numbers.
 */
import { MemoryLedger, OutOfMemoryError, Rng, withLedger } from "@tradeoffs/core-tensor";
import { describe, expect, it } from "vitest";
import { corpusFor } from "./corpus.js";
import { AdamW } from "./optimizer.js";
import { parse } from "./registry.js";
import { sampleBatch, trainStep } from "./training.js";
import { Transformer } from "./transformer.js";

/** create → generate → one AdamW step on tiny; everything it makes is freed on return or throw. */
function session(config: string): void {
  const model = Transformer.create("tiny", parse(config), { seed: 1 });
  try {
    model.generate([[1, 2, 3, 4, 5, 6]], 3);
    const opt = new AdamW(model.parameters());
    try {
      trainStep(model, opt, sampleBatch(corpusFor(64).train, 2, 8, new Rng(2)));
    } finally {
      opt.dispose();
    }
  } finally {
    model.dispose();
  }
}

describe("fault injection: every allocation may fail, nothing leaks", () => {
  for (const config of [
    "Baseline",
    "Flash+GQA[kvHeads=2]+Ckpt[every=1]",
    "INT8+LoRA",
    "MoE[experts=2,topK=1]+Paged[block=4]",
  ]) {
    it(`${config}: an OutOfMemoryError at any of the session's allocations leaves 0 live bytes`, () => {
      const clean = new MemoryLedger({ name: "clean" });
      withLedger(clean, () => session(config));
      expect(clean.live()).toBe(0);
      const total = clean.charges;
      expect(total).toBeGreaterThan(50);
      // Every index when there are few, else an even sample across create, generate and train.
      const step = Math.max(1, Math.ceil(total / 100));
      const failures: string[] = [];
      for (let at = 0; at < total; at += step) {
        const ledger = new MemoryLedger({ name: `fail at ${at}` });
        ledger.failAt(at);
        let threw: unknown = null;
        try {
          withLedger(ledger, () => session(config));
        } catch (e) {
          threw = e;
        }
        if (!(threw instanceof OutOfMemoryError))
          failures.push(`at ${at}: did not fail with OutOfMemoryError (${String(threw)})`);
        else if (ledger.live() !== 0)
          failures.push(`at ${at}: ${ledger.live()} bytes live ${JSON.stringify(ledger.snapshot().live)}`);
      }
      expect(failures).toEqual([]);
    });
  }
});
