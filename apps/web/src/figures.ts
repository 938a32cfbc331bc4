/**
 * The numbers the page shows, computed from its inputs by the model package (`estimate`,
 * `planCluster`): the same calls the compare CLI makes for `estimate` and `plan`. Pure: no DOM here
 * (main.ts renders), no running (run-small.ts).
 */
import {
  type ArchSpec,
  CATEGORIES,
  type ClusterPlan,
  ConfigError,
  type Configuration,
  type Estimate,
  estimate,
  type PresetName,
  parse,
  planCluster,
  type WorkloadSpec,
} from "@tradeoffs/model";

/** Everything the page's controls set. */
export interface Inputs {
  /** A preset's name, or an architecture read from an uploaded config.json. */
  readonly model: PresetName | ArchSpec;
  /** A configuration string of the config language (`Flash+GQA[kvHeads=2]+INT8`). */
  readonly config: string;
  readonly workload: "infer" | "train";
  readonly batch: number;
  readonly seq: number;
  readonly generate: number;
  /** A device preset name (`h100-80gb`). */
  readonly hardware: string;
  readonly devices: number;
  /** Tensor/pipeline parallel degrees; both undefined: the planner searches every layout. */
  readonly tp?: number | undefined;
  readonly pp?: number | undefined;
}

/** One shown figure: a stable key (the test reads it), a label, the raw number and its unit. */
export interface Figure {
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly unit: "bytes" | "count" | "flops" | "ms" | "tokens" | "bool";
}

export interface Figures {
  readonly config: Configuration;
  readonly estimate: Estimate;
  readonly plan: ClusterPlan;
  readonly estimateFigures: readonly Figure[];
  readonly planFigures: readonly Figure[];
  readonly layout: string;
}

/** The configuration, checked against the model (every problem at once, as the CLI reports them). */
export function configurationFor(inputs: Inputs, arch: ArchSpec): Configuration {
  const config = parse(inputs.config.trim() === "" ? "Baseline" : inputs.config);
  const problems = config.check({ arch });
  if (problems.length > 0)
    throw new ConfigError(problems.map((p) => `${config.label} on ${arch.name}: ${p}`));
  return config;
}

export function workloadOf(inputs: Inputs): WorkloadSpec {
  return {
    kind: inputs.workload,
    batch: inputs.batch,
    seq: inputs.seq,
    generate: inputs.workload === "train" ? 0 : inputs.generate,
  };
}

/** The estimate and the plan for `inputs`; throws the model package's typed errors on bad inputs. */
export function figuresFor(inputs: Inputs, arch: ArchSpec): Figures {
  const config = configurationFor(inputs, arch);
  const w = workloadOf(inputs);
  const e = estimate(inputs.model, config, w);
  const plan = planCluster({
    model: inputs.model,
    config,
    hardware: inputs.hardware,
    devices: inputs.devices,
    workload: inputs.workload,
    seq: w.seq,
    generate: w.generate,
    batch: w.batch,
    ...(inputs.tp !== undefined ? { tp: inputs.tp } : {}),
    ...(inputs.pp !== undefined ? { pp: inputs.pp } : {}),
  });
  const estimateFigures: Figure[] = [
    { key: "params", label: "parameters", value: e.params.total, unit: "count" },
    ...CATEGORIES.map((c): Figure => ({ key: `bytes.${c}`, label: c, value: e.bytes[c], unit: "bytes" })),
    { key: "bytes.total", label: "total (sum of peaks)", value: e.totalBytes, unit: "bytes" },
    { key: "flops.prefill", label: "prefill FLOPs", value: e.flops.prefill, unit: "flops" },
    {
      key: "flops.decodePerToken",
      label: "decode FLOPs per token",
      value: e.flops.decodePerToken,
      unit: "flops",
    },
    { key: "flops.trainStep", label: "train step FLOPs", value: e.flops.trainStep, unit: "flops" },
  ];
  const d = plan.perDevice;
  const planFigures: Figure[] = [
    { key: "plan.perDevice", label: "per device (worst stage)", value: d.total, unit: "bytes" },
    { key: "plan.capacity", label: "device memory", value: d.capacity, unit: "bytes" },
    { key: "plan.fits", label: "fits", value: d.fits ? 1 : 0, unit: "bool" },
    ...(inputs.workload === "train"
      ? [{ key: "plan.trainStepMs", label: "train step", value: plan.time.trainStepMs, unit: "ms" } as const]
      : [
          { key: "plan.prefillMs", label: "prefill", value: plan.time.prefillMs, unit: "ms" } as const,
          {
            key: "plan.decodeMsPerToken",
            label: "decode per token",
            value: plan.time.decodeMsPerToken,
            unit: "ms",
          } as const,
        ]),
    ...(plan.kvCapacityTokens !== null
      ? [
          {
            key: "plan.kvCapacity",
            label: "KV capacity",
            value: plan.kvCapacityTokens,
            unit: "tokens",
          } as const,
        ]
      : []),
    {
      key: "plan.smallestFit",
      label: "smallest device count that fits",
      value: plan.smallestFit?.devices ?? 0,
      unit: "count",
    },
  ];
  const l = plan.layout;
  const layout = `tp ${l.tp} × pp ${l.pp} × dp ${l.dp}${l.zero ? `, ZeRO-${l.zero}` : ""}${l.offload !== "none" ? `, offload ${l.offload}` : ""}`;
  return { config, estimate: e, plan, estimateFigures, planFigures, layout };
}
