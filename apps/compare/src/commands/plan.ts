/**
 * `compare plan`: size a configuration on N devices of a hardware preset under tensor, pipeline and
 * data parallelism (the model package's `planCluster` does the work). This file parses options and
 * renders the plan as a table or the stable JSON documented in the README ("Plan for many GPUs").
 */
import {
  type ClusterPlan,
  CONVENTIONS,
  EXPORT_ENGINE_NAMES,
  exportPlan,
  exportText,
  OFFLOADS,
  PLAN_WORKLOADS,
  PRECISIONS,
  parse,
  planCluster,
  RECOMPUTES,
  resolveDevice,
  resolveModel,
} from "@tradeoffs/model";
import { Command, InvalidArgumentError, Option } from "commander";
import { bytes, ms } from "../format.js";
import { renderCsv, renderMarkdown, renderText, type Table } from "../table.js";
import { TRAINING_OPTIONS, trainingChoice } from "./options.js";

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

const fraction = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(Number.isFinite(n) && n >= 0 && n <= 1))
    throw new InvalidArgumentError(`${name} must be a number in [0, 1]`);
  return n;
};

const nonNegative = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(Number.isFinite(n) && n >= 0))
    throw new InvalidArgumentError(`${name} must be a non-negative number`);
  return n;
};

/** `compute=0.5,memory=0.8,network=0.7` → a partial efficiency. */
function parseEfficiency(v: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of v.split(",")) {
    const [k, x] = part.split("=");
    const n = Number(x);
    if (!(k === "compute" || k === "memory" || k === "network") || !(n > 0 && n <= 1))
      throw new InvalidArgumentError("use compute=F,memory=F,network=F with each F in (0, 1]");
    out[k] = n;
  }
  return out;
}

const layoutText = (l: ClusterPlan["layout"]) =>
  `tp ${l.tp} × pp ${l.pp} × dp ${l.dp}${l.zero ? `, ZeRO-${l.zero}` : ""}${l.offload !== "none" ? `, offload ${l.offload}` : ""}${l.sp ? ", SP" : ""}`;

/** The plan as two tables: the chosen layout's figures, then the candidates. */
export function planTables(p: ClusterPlan): Table[] {
  const d = p.perDevice;
  const b = d.bytes;
  const rows: string[][] = [
    ["layout", layoutText(p.layout)],
    ["device (worst stage)", `stage ${d.stage + 1} of ${p.layout.pp}, ${d.layers} layers`],
    ...(["weights", "adapters", "kv", "act", "grad", "optim", "tmp"] as const).map((c) => [c, bytes(b[c])]),
    [
      "overhead",
      `${bytes(b.overhead)} (context ${bytes(d.overhead.context)}, fragmentation ${bytes(d.overhead.fragmentation)}, comm buffers ${bytes(d.overhead.commBuffers)})`,
    ],
    ["total per device", `${bytes(d.total)} of ${bytes(d.capacity)} (usable ${bytes(d.usable)})`],
    ["fits", d.fits ? "yes" : "NO"],
    ["cpu per device / node", `${bytes(p.cpuBytes)} / ${bytes(p.cpuBytesPerNode)}`],
  ];
  if (p.training !== undefined) {
    const t = p.training;
    const held =
      t.params === "bf16" ? `bf16 parameters${t.masterWeights === false ? "" : " + f32 master"}` : "";
    rows.push(["optimizer", [t.optimizer?.name ?? "adamw", held].filter(Boolean).join(", ")]);
  }
  if (p.kvCapacityTokens !== null)
    rows.push(
      ["KV capacity", `${p.kvCapacityTokens.toLocaleString("en")} tokens (${p.kvBlocks} blocks per replica)`],
      [
        "max concurrent sequences",
        `${p.maxConcurrentSequences} at ${p.workload.seq + p.workload.generate} tokens`,
      ],
    );
  if (p.convention !== "deepspeed") {
    rows.push([p.workload.kind === "train" ? "largest micro-batch" : "largest batch", String(p.maxBatch)]);
    rows.push([p.workload.kind === "serve" ? "longest context" : "longest sequence", String(p.maxSeq)]);
  }
  const t = p.time;
  if (p.workload.kind === "train") rows.push(["train step", `${ms(t.trainStepMs)} ms (${t.bound}-bound)`]);
  else
    rows.push(
      ["prefill", `${ms(t.prefillMs)} ms`],
      [
        "decode per token",
        `${ms(t.decodeMsPerToken)} ms (${t.bound}-bound, reads ${bytes(t.decodeBytesPerToken)})`,
      ],
    );
  rows.push(["of which communication", `${ms(t.commMs)} ms`]);
  if (p.deepspeed)
    rows.push([
      "DeepSpeed",
      `${p.deepspeed.formula}: ${bytes(p.deepspeed.gpuBytes)} per GPU, ${bytes(p.deepspeed.cpuBytesPerNode)} per node`,
    ]);
  rows.push([
    "smallest device count that fits",
    p.smallestFit ? `${p.smallestFit.devices} (${layoutText(p.smallestFit.layout)})` : "none up to 4096",
  ]);
  const w = p.workload;
  const main: Table = {
    title: `Plan: ${p.model} ${p.config} on ${p.devices} × ${p.hardware}, ${w.kind} batch ${w.batch} × ${w.seq}${w.kind === "train" ? `, micro-batch ${w.microBatch}` : ` + ${w.generate}`}`,
    headers: ["", "per device"],
    rows,
    align: ["left", "left"],
    notes: p.notes,
  };
  const time = (c: ClusterPlan["candidates"][number]) =>
    w.kind === "train"
      ? c.time.trainStepMs
      : w.kind === "infer"
        ? c.time.prefillMs + w.generate * c.time.decodeMsPerToken
        : c.time.decodeMsPerToken;
  const candidates: Table = {
    title: `Layouts of ${p.devices} devices, fitting first, by ${w.kind === "train" ? "step time" : w.kind === "infer" ? "prefill + generate time" : "decode time per token"}`,
    headers: ["#", "layout", "per device", "fits", "ms", ...(w.kind === "serve" ? ["max seqs"] : [])],
    rows: p.candidates.map((c, i) => [
      String(i + 1),
      layoutText(c.layout),
      bytes(c.perDeviceTotal),
      c.fits ? "yes" : "no",
      ms(time(c)),
      ...(w.kind === "serve" ? [String(c.maxConcurrentSequences ?? 0)] : []),
    ]),
    align: ["right", "left", "right", "left", "right", "right"],
  };
  return p.candidates.length > 1 ? [main, candidates] : [main];
}

/** The `plan` subcommand. */
export function planCommand(): Command {
  return new Command("plan")
    .description("size a configuration on N devices: per-device memory, KV capacity and time under TP/PP/DP")
    .option("--model <preset|config.json>", "published preset or a Hugging Face config.json", "llama2-70b")
    .option("--config <string>", "configuration string", "Baseline")
    .option("--hardware <name|file.json>", "device preset, local, or a JSON file", "h100-80gb")
    .option("--gpus <n>", "devices", positiveInt("--gpus"), 8)
    .option(
      "--tp <n>",
      "tensor parallel degree (search when tp, pp and dp are all absent)",
      positiveInt("--tp"),
    )
    .option("--pp <n>", "pipeline parallel degree", positiveInt("--pp"))
    .option("--dp <n>", "data parallel degree", positiveInt("--dp"))
    .addOption(new Option("--zero <stage>", "ZeRO stage (train)").choices(["0", "1", "2", "3"]))
    .addOption(new Option("--offload <what>", "CPU offload (train)").choices([...OFFLOADS]))
    .option("--no-sp", "no sequence parallelism (on by default for training with tp > 1)")
    .addOption(new Option("--workload <name>", "workload").choices([...PLAN_WORKLOADS]).default("infer"))
    .option("--seq <n>", "prompt (infer, serve) or sequence (train) length", positiveInt("--seq"), 2048)
    .option("--generate <n>", "tokens generated (infer, serve)", nonNegative("--generate"))
    .option("--batch <n>", "sequences: global batch (train) or decoded together", positiveInt("--batch"))
    .option("--micro-batch <n>", "sequences per micro-batch (train)", positiveInt("--micro-batch"), 1)
    .addOption(
      new Option("--recompute <what>", "activation recomputation (default: full with Ckpt)").choices([
        ...RECOMPUTES,
      ]),
    )
    .addOption(
      new Option("--precision <p>", "matmul precision for the roofline")
        .choices([...PRECISIONS])
        .default("bf16"),
    )
    .option(
      "--efficiency <list>",
      "override efficiency factors: compute=F,memory=F,network=F",
      parseEfficiency,
    )
    .option("--headroom <f>", "fraction of device memory kept free", fraction("--headroom"), 0.05)
    .option("--utilization <f>", "vLLM gpu_memory_utilization (serve)", fraction("--utilization"), 0.9)
    .option(
      "--context-bytes <n>",
      "runtime context per device (default: the preset's)",
      nonNegative("--context-bytes"),
    )
    .option(
      "--fragmentation <f>",
      "allocator fragmentation, fraction of tensor bytes",
      fraction("--fragmentation"),
    )
    .option(
      "--comm-buffer-bytes <n>",
      "communication buffers per process group",
      nonNegative("--comm-buffer-bytes"),
    )
    .addOption(
      new Option("--convention <name>", "tradeoffs, or deepspeed (its model-state estimators)")
        .choices([...CONVENTIONS])
        .default("tradeoffs"),
    )
    .addOption(
      new Option(
        "--export <engine>",
        "print the engine's launch flags or config file for this plan; strategies without an equivalent are listed",
      ).choices([...EXPORT_ENGINE_NAMES]),
    )
    .addOption(TRAINING_OPTIONS.optim())
    .addOption(TRAINING_OPTIONS.params())
    .addOption(TRAINING_OPTIONS.masterWeights())
    .addOption(TRAINING_OPTIONS.noMasterWeights())
    .option("--json", "print one JSON object (README: Plan for many GPUs)")
    .option("--csv", "print the tables as CSV")
    .option("--markdown", "print the tables as GitHub Markdown")
    .action((o) => {
      const overhead = {
        ...(o.contextBytes !== undefined ? { contextBytes: o.contextBytes } : {}),
        ...(o.fragmentation !== undefined ? { fragmentation: o.fragmentation } : {}),
        ...(o.commBufferBytes !== undefined ? { commBufferBytes: o.commBufferBytes } : {}),
      };
      // Accumulation is the plan's own batch / (micro-batch × dp); --grad-accum is not an option here.
      const training = trainingChoice(o, o.workload === "train");
      const plan = planCluster({
        model: resolveModel(o.model).model,
        config: parse(o.config),
        hardware: resolveDevice(o.hardware),
        devices: o.gpus,
        workload: o.workload,
        seq: o.seq,
        microBatch: o.microBatch,
        precision: o.precision,
        headroom: o.headroom,
        utilization: o.utilization,
        convention: o.convention,
        overhead,
        ...(o.generate !== undefined ? { generate: o.generate } : {}),
        ...(o.batch !== undefined ? { batch: o.batch } : {}),
        ...(o.tp !== undefined ? { tp: o.tp } : {}),
        ...(o.pp !== undefined ? { pp: o.pp } : {}),
        ...(o.dp !== undefined ? { dp: o.dp } : {}),
        ...(o.zero !== undefined ? { zero: Number(o.zero) as 0 | 1 | 2 | 3 } : {}),
        ...(o.offload !== undefined ? { offload: o.offload } : {}),
        ...(o.sp === false ? { sp: false } : {}),
        ...(o.recompute !== undefined ? { recompute: o.recompute } : {}),
        ...(o.efficiency !== undefined ? { efficiency: o.efficiency } : {}),
        ...(training !== undefined ? { training } : {}),
      });
      if (o.export !== undefined) {
        const e = exportPlan(o.export, plan, parse(o.config), { utilization: o.utilization });
        process.stdout.write(o.json ? `${JSON.stringify(e, null, 2)}\n` : exportText(e));
        return;
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
        return;
      }
      const render = o.markdown ? renderMarkdown : o.csv ? renderCsv : renderText;
      process.stdout.write(`${planTables(plan).map(render).join("\n\n")}\n`);
    });
}
