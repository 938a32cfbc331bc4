/**
 * What a compare run is made of beyond the measured rows: the default suite, the default backend,
 * the projection of each configuration to a published model, and the data for the HTML report.
 */
import {
  type ArchSpec,
  activeBackend,
  CATEGORIES,
  ConfigError,
  type Configuration,
  DEFAULT_SUITE,
  type Estimate,
  estimate,
  getPreset,
  type Hardware,
  headActBytes,
  type Layout,
  layerActElements,
  MEDIUM_SUITE,
  type PresetName,
  parse,
  resolveDevice,
  setBackend,
  smallestPlan,
  useFastestBackend,
  ValueError,
  type WorkloadSpec,
  wasmAvailable,
  wasmUnavailableReason,
} from "@tradeoffs/model";
import type { ScaleRow } from "./render.js";
import type { CategoryBytes, CheckpointSchedule, ReportData, ReportRow, SweepPoint } from "./report/data.js";
import type { CompareRow } from "./run.js";

export function defaultSuite(model = "small"): string[] {
  return (model === "medium" ? MEDIUM_SUITE : DEFAULT_SUITE).filter((c) => {
    try {
      parse(c);
      return true;
    } catch (e) {
      if (e instanceof ConfigError) return false;
      throw e;
    }
  });
}

/** WASM where this platform runs WebAssembly SIMD, else JS. */
export function defaultBackend(): string {
  return wasmAvailable() ? "WASM" : "JS";
}

/** Activate a backend by name; WASM is registered on first use and explains itself when unavailable. */
export function selectBackend(name: string): void {
  if (name.toUpperCase() === "WASM") {
    if (!wasmAvailable())
      throw new ValueError(
        `--backend WASM is not available here: ${wasmUnavailableReason()}; use --backend JS`,
      );
    useFastestBackend();
    return;
  }
  setBackend(name);
}

const infer = (seq: number) => ({ kind: "infer" as const, batch: 1, seq, generate: 0 });
const train = (seq: number) => ({ kind: "train" as const, batch: 1, seq, generate: 0 });

/** `tp8·pp2·dp2 ZeRO-2 +offload` (parts at 1 or off are left out; `1 device` when nothing is split). */
export function layoutText(l: Layout): string {
  const parts = [
    l.tp > 1 ? `tp${l.tp}` : "",
    l.pp > 1 ? `pp${l.pp}` : "",
    l.dp > 1 ? `dp${l.dp}` : "",
  ].filter(Boolean);
  const extra = [
    l.zero > 0 ? `ZeRO-${l.zero}` : "",
    l.offload !== "none" ? `offload ${l.offload}` : "",
  ].filter(Boolean);
  return [parts.join("·") || "1 device", ...extra].join(" ");
}

/**
 * Each configuration estimated on a published model, and planned by the multi-device planner on
 * `hw`: the fewest devices whose best layout fits inference (batch 1, one decoded token after `seq`)
 * and training (batch 1 × `seq`), and the decode time per token of that inference layout.
 */
export function projectRows(
  configs: readonly Configuration[],
  model: PresetName | ArchSpec,
  seq: number,
  hw: Hardware,
): ScaleRow[] {
  const arch = typeof model === "string" ? getPreset(model).arch : model;
  const device = resolveDevice(hw.name);
  return configs.map((c) => {
    const problems = c.check({ arch });
    if (problems.length > 0) {
      const dummy = estimate(model, parse("Baseline"), infer(seq));
      return {
        config: c.label,
        infer: dummy,
        train: dummy,
        decode: { ms: Number.NaN, bound: "" },
        devices: { infer: 0, train: 0 },
        layout: { infer: "", train: "" },
        hardware: hw.name,
        error: problems.join("; "),
      };
    }
    const i = estimate(model, c, { ...infer(seq), generate: 1 });
    const t = estimate(model, c, train(seq));
    const base = { model, config: c, hardware: device, seq, batch: 1 } as const;
    const pi = smallestPlan({ ...base, workload: "infer", generate: 1 });
    const pt = smallestPlan({ ...base, workload: "train" });
    return {
      config: c.label,
      infer: i,
      train: t,
      decode: pi ? { ms: pi.time.decodeMsPerToken, bound: pi.time.bound } : { ms: Number.NaN, bound: "" },
      devices: { infer: pi?.devices ?? 0, train: pt?.devices ?? 0 },
      layout: { infer: pi ? layoutText(pi.layout) : "", train: pt ? layoutText(pt.layout) : "" },
      hardware: hw.name,
    };
  });
}

export function scaleJson(rows: readonly ScaleRow[]) {
  return rows.map((r) => ({
    config: r.config,
    error: r.error,
    infer: { params: r.infer.params, bytes: r.infer.bytes, totalBytes: r.infer.totalBytes },
    train: { bytes: r.train.bytes, totalBytes: r.train.totalBytes },
    decodeMs: r.decode.ms,
    bound: r.decode.bound,
    devices: r.devices,
    layout: r.layout,
    hardware: r.hardware,
  }));
}

const pick = (b: Readonly<Record<string, number>>): CategoryBytes =>
  Object.fromEntries(CATEGORIES.map((c) => [c, b[c] ?? 0])) as unknown as CategoryBytes;

/** Assemble the HTML report's data from measured rows, projections and estimator sweeps. */
export function reportData(
  rows: readonly CompareRow[],
  model: PresetName,
  scaled: readonly ScaleRow[],
): ReportData {
  const reportRows: ReportRow[] = rows.map((r) => {
    const s = scaled.find((x) => x.config === r.config && !x.error);
    return {
      config: r.config,
      ...(r.infer
        ? {
            infer: {
              measured: pick(r.infer.peak),
              estimated: pick(r.infer.estimate.bytes),
              prefillTokensPerSec: r.infer.prefillTokensPerSec,
              decodeMsPerToken: r.infer.decodeMsPerStep / r.infer.batch,
            },
          }
        : {}),
      ...(r.train
        ? {
            train: {
              measured: pick(r.train.peak),
              estimated: pick(r.train.estimate.bytes),
              stepMs: r.train.stepMs,
              batch: r.train.batch,
              seq: r.train.seq,
            },
          }
        : {}),
      ...(r.quality
        ? {
            quality: {
              lossDelta: r.quality.loss - r.quality.referenceLoss,
              top1Agreement: r.quality.top1Agreement,
              klDivergence: r.quality.klDivergence,
              perplexity: r.quality.perplexity,
              referencePerplexity: r.quality.referencePerplexity,
            },
          }
        : {}),
      ...(s
        ? { scale: { model: s.infer.model, estimated: pick(s.infer.bytes), totalBytes: s.infer.totalBytes } }
        : {}),
    };
  });
  const seqs = [256, 512, 1024, 2048, 4096, 8192];
  // Sweeps are estimated at the measured batch, so the measured points sit on their lines.
  const anyTrain = rows.find((r) => r.train)?.train;
  const anyInfer = rows.find((r) => r.infer)?.infer;
  const trainAt = (seq: number) => ({ ...train(seq), batch: anyTrain?.batch ?? 1 });
  const inferAt = (seq: number) => ({ ...infer(seq), batch: anyInfer?.batch ?? 1 });
  const attentionSweep: SweepPoint[] = [];
  const kvSweep: SweepPoint[] = [];
  const est = (c: string, w: WorkloadSpec): Estimate | null => {
    try {
      return estimate(model, parse(c), w, { backend: activeBackend() });
    } catch {
      return null;
    }
  };
  for (const seq of seqs) {
    for (const c of ["Baseline", "Flash"]) {
      const e = est(c, trainAt(seq));
      if (e)
        attentionSweep.push({
          series: c === "Baseline" ? "Standard (act)" : "Flash (act)",
          seq,
          bytes: e.bytes.act,
          source: "estimated",
        });
    }
    for (const c of ["MHA", "GQA", "MQA"]) {
      const e = est(c, inferAt(seq));
      if (e) kvSweep.push({ series: c, seq, bytes: e.bytes.kv, source: "estimated" });
    }
  }
  for (const r of rows) {
    if (r.train && (r.config === "Baseline" || (r.config.startsWith("Flash[") && !r.config.includes("+")))) {
      attentionSweep.push({
        series: r.config === "Baseline" ? "Standard (act)" : "Flash (act)",
        seq: r.train.seq,
        bytes: r.train.peak.act,
        source: "measured",
        timeMs: r.train.stepMs,
      });
    }
    if (
      r.infer &&
      ["Baseline", "GQA", "MQA"].some((c) => r.config.startsWith(c) && !r.config.includes("+"))
    ) {
      kvSweep.push({
        series: r.config === "Baseline" ? "MHA" : r.config.replace(/\[.*$/, ""),
        seq: r.infer.prompt + r.infer.generate,
        bytes: r.infer.peak.kv,
        source: "measured",
      });
    }
  }
  // Each policy's schedule and prediction for the measured training step (its batch and sequence,
  // or the run's, or the train workload's defaults when nothing trained), with the byte sizes the
  // model passes to the strategy's `segments` (the estimator's layer act, layer input and head act).
  const checkpoint: CheckpointSchedule[] = [];
  const arch = getPreset(model).arch;
  for (const c of ["None", "Ckpt[every=2]", "Ckpt[sqrt]", "Ckpt[all]"]) {
    let strategy: Configuration;
    try {
      strategy = parse(c);
    } catch {
      continue;
    }
    const measured = rows.find((r) => r.config === strategy.label && r.train)?.train;
    const batch = measured?.batch ?? anyTrain?.batch ?? 4;
    const seq = measured?.seq ?? anyTrain?.seq ?? 64;
    const e = estimate(
      model,
      strategy,
      { kind: "train", batch, seq, generate: 0 },
      { backend: activeBackend() },
    );
    const s = strategy.get("checkpoint");
    const bb = e.plan.baseBytes;
    const segs = s
      ? s.exec.segments(
          arch.layers,
          layerActElements(e.plan, batch, seq) * bb,
          batch * seq * arch.dModel * bb,
          headActBytes(e.plan, batch * seq),
        )
      : [];
    const recomputed = new Set(segs.flat()).size;
    checkpoint.push({
      policy: strategy.label,
      layers: arch.layers,
      segments: segs.map((g) => [...g]),
      batch,
      seq,
      predictedActBytes: e.bytes.act,
      ...(measured ? { measuredActBytes: measured.peak.act } : {}),
      extraForward: recomputed / arch.layers,
    });
  }
  const serve = rows
    .filter((r) => r.serve)
    .map((r) => ({
      config: r.config,
      steps: r.serve!.timeline.map((t) => ({
        step: t.step,
        kvBytesUsed: t.used,
        kvBytesReserved: t.reserved,
        running: t.running,
      })),
    }));
  return {
    title: `tradeoffs: ${rows.length} configuration${rows.length === 1 ? "" : "s"} measured on ${model}${scaled[0] ? `, projected to ${scaled[0].infer.model}` : ""}`,
    generatedAt: new Date().toISOString(),
    model,
    rows: reportRows,
    attentionSweep,
    kvSweep,
    checkpoint,
    serve,
    notes: [
      "memory: peak bytes per ledger category, measured on the model and predicted by the estimator",
      scaled[0] ? `projection: ${scaled[0].infer.model} at ${scaled[0].infer.workload.seq} tokens` : "",
    ].filter(Boolean),
  };
}
