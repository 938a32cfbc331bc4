/**
 * The page: reads the controls, shows the estimate and the plan (figures.ts) on every change, and
 * runs the small model in a worker (runner.ts) on request. Rendering only; the numbers come from the
 * model package. Every shown figure carries its raw value (`data-value`) so tests read numbers, not text.
 */
import {
  type ArchSpec,
  CATEGORIES,
  DEVICE_NAMES,
  formatBytes,
  formatCount,
  getPreset,
  type HfModel,
  hfModelFromConfig,
  PRESET_NAMES,
  type PresetName,
  registry,
} from "@tradeoffs/model";
import { type Figure, figuresFor, type Inputs } from "./figures.js";
import type { RunReport, RunRequest } from "./run-small.js";
import type { RunReply } from "./runner.js";

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

let uploaded: HfModel | null = null;

function fillSelect(id: string, values: readonly string[], selected: string): void {
  const select = $<HTMLSelectElement>(id);
  for (const v of values) select.add(new Option(v, v, v === selected, v === selected));
}

const optionalInt = (id: string): number | undefined => {
  const v = $<HTMLInputElement>(id).value.trim();
  return v === "" ? undefined : Number(v);
};

function readInputs(): { inputs: Inputs; arch: ArchSpec } {
  const preset = $<HTMLSelectElement>("model").value as PresetName;
  const model = uploaded ? uploaded.arch : preset;
  const inputs: Inputs = {
    model,
    config: $<HTMLInputElement>("config").value,
    workload: $<HTMLSelectElement>("workload").value as "infer" | "train",
    batch: Number($<HTMLInputElement>("batch").value),
    seq: Number($<HTMLInputElement>("seq").value),
    generate: Number($<HTMLInputElement>("generate").value),
    hardware: $<HTMLSelectElement>("hardware").value,
    devices: Number($<HTMLInputElement>("devices").value),
    tp: optionalInt("tp"),
    pp: optionalInt("pp"),
  };
  return { inputs, arch: uploaded ? uploaded.arch : getPreset(preset).arch };
}

function show(f: Figure): string {
  switch (f.unit) {
    case "bytes":
      return formatBytes(f.value);
    case "count":
      return formatCount(f.value);
    case "flops":
      return `${formatCount(f.value)}FLOP`;
    case "ms":
      return `${f.value.toFixed(2)} ms`;
    case "tokens":
      return f.value.toLocaleString("en");
    case "bool":
      return f.value ? "yes" : "NO";
  }
}

function fillTable(id: string, figures: readonly Figure[]): void {
  const body = $<HTMLTableElement>(id).tBodies[0]!;
  body.replaceChildren(
    ...figures.map((f) => {
      const tr = document.createElement("tr");
      tr.dataset.key = f.key;
      const name = tr.insertCell();
      name.textContent = f.label;
      const value = tr.insertCell();
      value.dataset.value = String(f.value);
      value.textContent = show(f);
      return tr;
    }),
  );
}

function render(): void {
  const error = $<HTMLParagraphElement>("error");
  try {
    const { inputs, arch } = readInputs();
    const f = figuresFor(inputs, arch);
    error.hidden = true;
    $("estimate-title").textContent =
      `${arch.name}, ${f.config.label}, ${inputs.workload} ${inputs.batch} × ${inputs.seq}`;
    fillTable("estimate", f.estimateFigures);
    $("estimate-notes").textContent = f.estimate.notes.join("\n");
    $("plan-title").textContent = `${inputs.devices} × ${f.plan.hardware}: ${f.layout}`;
    $("plan").dataset.layout = f.layout;
    fillTable("plan", f.planFigures);
    // Bytes per device by category, as bars against the device's memory.
    const d = f.plan.perDevice;
    $("plan-chart").replaceChildren(
      ...[...CATEGORIES, "overhead" as const]
        .filter((c) => d.bytes[c] > 0)
        .map((c) => {
          const row = document.createElement("div");
          const bar = document.createElement("span");
          bar.style.width = `${Math.max(0.5, Math.min(100, (100 * d.bytes[c]) / d.capacity))}%`;
          row.append(bar, `${c} ${formatBytes(d.bytes[c])}`);
          return row;
        }),
    );
  } catch (e) {
    error.textContent = e instanceof Error ? e.message : String(e);
    error.hidden = false;
  }
}

/** One line of the run table: its key, label, the measured and estimated values and their unit. */
type MeasuredRow = [
  key: string,
  label: string,
  measured: number,
  estimated: number,
  unit: "bytes" | "ms" | "rate",
];

function measuredRows(r: RunReport): MeasuredRow[] {
  return [
    ...CATEGORIES.filter((c) => r.measured[c] > 0 || r.estimated[c] > 0).map(
      (c): MeasuredRow => [`bytes.${c}`, c, r.measured[c], r.estimated[c], "bytes"],
    ),
    ["bytes.total", "total peak", r.measuredTotal, r.estimatedTotal, "bytes"],
    ["prefillMs", "prefill (roofline here)", r.prefillMs, r.projectedPrefillMs, "ms"],
    ["decodeMsPerStep", "decode step (roofline here)", r.decodeMsPerStep, r.projectedDecodeMsPerStep, "ms"],
    [
      "decodeTokensPerSec",
      "decode tokens/s",
      r.decodeTokensPerSec,
      1000 / r.projectedDecodeMsPerStep,
      "rate",
    ],
  ];
}

function showRun(r: RunReport): void {
  const table = $<HTMLTableElement>("measured");
  const fmt = (v: number, unit: string) =>
    unit === "bytes" ? formatBytes(v) : unit === "ms" ? `${v.toFixed(2)} ms` : v.toFixed(1);
  table.tBodies[0]!.replaceChildren(
    ...measuredRows(r).map(([key, label, m, e, unit]) => {
      const tr = document.createElement("tr");
      tr.dataset.key = key;
      tr.insertCell().textContent = label;
      const mc = tr.insertCell();
      mc.dataset.value = String(m);
      mc.textContent = fmt(m, unit);
      const ec = tr.insertCell();
      ec.dataset.value = String(e);
      ec.textContent = fmt(e, unit);
      return tr;
    }),
  );
  table.dataset.config = r.config;
  table.dataset.threads = String(r.threads);
  table.hidden = false;
  $("run-text").textContent = `“${r.text}”`;
}

function run(): void {
  const status = $("run-status");
  const button = $<HTMLButtonElement>("run");
  const threads = crossOriginIsolated ? 2 : 1;
  const request: RunRequest = {
    config: $<HTMLInputElement>("config").value,
    threads,
    batch: 1,
    prompt: 64,
    generate: 32,
    wasmUrl: new URL("kernels.wasm", location.href).href,
    weightsUrl: new URL("small.safetensors", location.href).href,
  };
  button.disabled = true;
  status.textContent = `running on ${threads} thread${threads > 1 ? "s" : ""}…`;
  const t0 = performance.now();
  const worker = new Worker(new URL("runner.js", location.href), { type: "module" });
  const done = (text: string) => {
    status.textContent = text;
    button.disabled = false;
    worker.terminate();
  };
  worker.onmessage = (e: MessageEvent<RunReply>) => {
    if (e.data.ok) {
      showRun(e.data.report);
      done(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s (${e.data.report.config})`);
    } else done(`failed: ${e.data.error}`);
  };
  worker.onerror = (e) => done(`failed: ${e.message}`);
  worker.postMessage(request);
}

async function upload(file: File): Promise<void> {
  const note = $("model-note");
  try {
    const json = JSON.parse(await file.text()) as Record<string, unknown>;
    // A Hub snapshot's `config.json` says little by its name: call the model after its family.
    const name = /^config\.json$/i.test(file.name)
      ? String(json.model_type ?? "config")
      : file.name.replace(/\.json$/i, "");
    uploaded = hfModelFromConfig(json, name, file.name);
    note.textContent = `${uploaded.arch.name} (${uploaded.family})${uploaded.notes.length ? `: ${uploaded.notes.join(" ")}` : ""}`;
  } catch (e) {
    uploaded = null;
    note.textContent = "";
    $("error").textContent = e instanceof Error ? e.message : String(e);
    $("error").hidden = false;
    return;
  }
  render();
}

function init(): void {
  fillSelect("model", PRESET_NAMES, "llama2-7b");
  fillSelect("hardware", DEVICE_NAMES, "h100-80gb");
  const config = $<HTMLInputElement>("config");
  $("chips").replaceChildren(
    ...Object.keys(registry)
      .filter((name) => name !== "Baseline")
      .map((name) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = `+${name}`;
        b.onclick = () => {
          config.value = config.value.trim() === "" ? name : `${config.value}+${name}`;
          render();
        };
        return b;
      }),
  );
  $("threads-note").textContent = crossOriginIsolated
    ? "on 2 threads (the page is cross-origin isolated: a helper Web Worker shares the WASM memory)."
    : "on 1 thread (the page is not cross-origin isolated, so no shared memory between workers).";
  $("inputs").addEventListener("input", (e) => {
    if ((e.target as HTMLElement).id === "model") uploaded = null;
    if ((e.target as HTMLElement).id !== "config-file") render();
  });
  $<HTMLInputElement>("config-file").addEventListener("change", (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) void upload(file);
  });
  $("run").addEventListener("click", run);
  render();
  document.body.dataset.ready = "true";
}

init();
