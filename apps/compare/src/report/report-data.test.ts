import { activeBackend, estimate, getPreset, parse } from "@tradeoffs/model";
import { describe, expect, it } from "vitest";
import type { CompareRow } from "../run.js";
import { reportData } from "../suite.js";
import { layerStates } from "./charts/checkpoint.js";

const MODEL = "small";
const BATCH = 4;
const SEQ = 32;
const layers = getPreset(MODEL).arch.layers;

/** A trained row as `run` makes one: its estimate for the measured step, and a "measured" peak. */
function trainRow(config: string): CompareRow {
  const w = { kind: "train", batch: BATCH, seq: SEQ, generate: 0 } as const;
  const e = estimate(MODEL, parse(config), w, { backend: activeBackend() });
  const peak = { ...e.bytes, act: e.bytes.act + 1000 };
  return {
    config: parse(config).label,
    train: { kind: "train", batch: BATCH, seq: SEQ, steps: 1, stepMs: 12.5, peak, estimate: e },
  } as unknown as CompareRow;
}

describe("reportData: the checkpoint chart agrees with the rows", () => {
  const rows = ["Baseline", "Ckpt[every=2]", "Ckpt[sqrt]", "Ckpt[all]"].map(trainRow);
  const data = reportData(rows, MODEL, []);

  it("predicts each policy at the measured batch and sequence, equal to the row's own estimate", () => {
    for (const label of ["Ckpt[every=2]", "Ckpt[sqrt]", "Ckpt[all]"]) {
      const s = data.checkpoint.find((c) => c.policy === parse(label).label)!;
      const row = rows.find((r) => r.config === parse(label).label)!;
      expect({ batch: s.batch, seq: s.seq }, label).toEqual({ batch: BATCH, seq: SEQ });
      expect(s.predictedActBytes, label).toBe(row.train!.estimate.bytes.act);
      expect(s.measuredActBytes, label).toBe(row.train!.peak.act);
      const table = data.rows.find((r) => r.config === row.config)!.train!;
      expect(s.predictedActBytes).toBe(table.estimated.act);
      expect(s.measuredActBytes).toBe(table.measured.act);
    }
  });

  it("computes every=2, sqrt and all schedules for the model's layers, each different", () => {
    // Policies are named as the tables name them (`Ckpt[policy=sqrt]`).
    const of = (p: string) => data.checkpoint.find((c) => c.policy === parse(p).label)!;
    expect(of("None").segments).toEqual([]);
    expect(of("Ckpt[all]").segments).toEqual(Array.from({ length: layers }, (_, i) => [i]));
    expect(
      of("Ckpt[every=2]").segments.every((g) => g.length === 2 || g === of("Ckpt[every=2]").segments.at(-1)),
    ).toBe(true);
    const k = Math.max(1, Math.round(Math.sqrt(layers)));
    expect(of("Ckpt[sqrt]").segments[0]).toEqual(Array.from({ length: k }, (_, i) => i));
    // Each policy's own schedule: every=2 and sqrt coincide only where round(√L) = 2 (L = 4: small).
    const heat = (p: string) => layerStates(of(p)).join();
    expect(new Set(["None", "Ckpt[every=2]", "Ckpt[all]"].map(heat)).size).toBe(3);
    expect(heat("Ckpt[sqrt]") === heat("Ckpt[every=2]")).toBe(k === 2);
    expect(heat("Ckpt[sqrt]")).not.toBe(heat("Ckpt[all]"));
    for (const s of data.checkpoint) expect(s.segments.flat().length / layers).toBe(s.extraForward);
  });

  it("passes the step's batch, sequence and time through to the table rows", () => {
    for (const r of data.rows) expect(r.train).toMatchObject({ batch: BATCH, seq: SEQ, stepMs: 12.5 });
  });
});
