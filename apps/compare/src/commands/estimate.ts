/**
 * `estimate`: the estimator's figures for a preset, a Hugging Face config.json or a GGUF header,
 * without running anything. Parses options and prints; the model package does the work.
 */
import {
  ConfigError,
  estimate,
  ggufModelInfo,
  PRESET_NAMES,
  resolveModel,
  type WorkloadSpec,
} from "@tradeoffs/model";
import { Command, Option } from "commander";
import { estimateJson, estimateTable } from "../render.js";
import { ggufFileNote } from "./gguf-file.js";
import {
  emit,
  nonNegativeInt,
  parseConfigs,
  positiveInt,
  TRAINING_OPTIONS,
  trainingChoice,
} from "./options.js";

/** The `estimate` subcommand. */
export function estimateCommand(): Command {
  return new Command("estimate")
    .description("print the estimator's figures for a preset without running anything")
    .requiredOption(
      "--model <preset|config.json|file.gguf>",
      `a preset (${PRESET_NAMES.join(", ")}), a Hugging Face config.json or a llama GGUF (header only)`,
    )
    .option(
      "--config <string...>",
      "configuration string(s) (default: Baseline; for a GGUF file, the file's own weight format)",
    )
    .option("--seq <n>", "prompt (infer) or sequence (train) length", positiveInt("--seq"), 2048)
    .option("--generate <n>", "tokens generated after the prompt (infer)", nonNegativeInt("--generate"), 0)
    .option("--batch <n>", "batch size", positiveInt("--batch"), 1)
    .addOption(
      new Option("--kv-dtype <dtype>", "KV cache element type before strategies").choices(["fp16", "fp32"]),
    )
    .addOption(new Option("--workload <name>", "workload").choices(["infer", "train"]).default("infer"))
    .addOption(
      new Option(
        "--json",
        "print one JSON object (rows[i].config, rows[i].estimate.params.total, ...)",
      ).conflicts(["csv", "markdown"]),
    )
    .addOption(
      new Option("--csv", "print the table as CSV (raw numbers, units in the header)").conflicts([
        "markdown",
      ]),
    )
    .option("--markdown", "print the table as GitHub Markdown")
    .addOption(TRAINING_OPTIONS.optim())
    .addOption(TRAINING_OPTIONS.gradAccum())
    .addOption(TRAINING_OPTIONS.params())
    .addOption(TRAINING_OPTIONS.masterWeights())
    .addOption(TRAINING_OPTIONS.noMasterWeights())
    .action((o) => {
      const gguf = /\.gguf$/i.test(o.model) ? ggufModelInfo(o.model) : null;
      // A preset or a config.json (file or folder), with what the estimate models only approximately.
      const resolved = gguf ? null : resolveModel(o.model);
      const arch = gguf?.arch ?? resolved!.arch;
      const workload: WorkloadSpec = { kind: o.workload, batch: o.batch, seq: o.seq, generate: o.generate };
      // A GGUF file's own weight format (Q4_0, Q8_0, ...) is what it holds: estimate that by default.
      const fileFormat = gguf && gguf.format !== "mixed" && gguf.format !== "FP32" ? gguf.format : undefined;
      const configs = parseConfigs(o.config ?? [fileFormat ?? "Baseline"]);
      const training = trainingChoice(o, o.workload === "train");
      const estimates = configs.map((c) => {
        const problems = c.check({ arch });
        if (problems.length > 0)
          throw new ConfigError(problems.map((p) => `${c.label} on ${arch.name}: ${p}`));
        const e = estimate(resolved?.model ?? arch, c, workload, {
          ...(o.kvDtype ? { kvDtype: o.kvDtype } : {}),
          ...(training ? { training } : {}),
        });
        // A config.json's own approximations (presets add theirs inside estimate()).
        const extra = resolved?.source === "config.json" ? resolved.notes : [];
        return extra.length ? { ...e, notes: [...e.notes, ...extra] } : e;
      });
      const file = gguf ? { file: gguf } : {};
      if (o.json)
        process.stdout.write(`${JSON.stringify({ ...estimateJson(estimates), ...file }, null, 2)}\n`);
      else emit(estimateTable(estimates), o);
      if (gguf && !o.json && !o.csv) process.stdout.write(`\n${ggufFileNote(o.model, gguf)}\n`);
    });
}
