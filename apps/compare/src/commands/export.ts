/**
 * `compare export`: write an executable model built with a configuration as a llama-architecture
 * GGUF that llama.cpp (llama-cli, node-llama-cpp, ollama) runs. The model package does the work;
 * this file only parses options and prints what was written.
 */
import { resolve } from "node:path";
import {
  exportGguf,
  formatBytes,
  getPreset,
  hasSmallWeights,
  loadSmallWeights,
  parse,
  Transformer,
  ValueError,
} from "@tradeoffs/model";
import { Command, Option } from "commander";

/** The `export` subcommand. */
export function exportCommand(): Command {
  return new Command("export")
    .description("write an executable model as a llama.cpp GGUF (weights FP32, FP16, BF16, Q8_0 or Q4_0)")
    .addOption(new Option("--model <preset>", "executable preset").default("small"))
    .option("--config <string>", "configuration; its weights slot picks the tensor type", "Baseline")
    .requiredOption("--out <file.gguf>", "path of the GGUF file to write (written atomically)")
    .option("--json", "print one JSON object")
    .action((o: { model: string; config: string; out: string; json?: boolean }) => {
      const preset = getPreset(o.model);
      if (!preset.executable)
        throw new ValueError(`--model ${o.model} is estimate-only; export tiny or small`, { model: o.model });
      const trained = preset.name === "small" && hasSmallWeights();
      const model = Transformer.create(preset.name as "small", parse(o.config), {
        ...(trained ? { weights: loadSmallWeights() } : {}),
      });
      try {
        const r = exportGguf(model, o.out, { name: `${preset.name} ${model.config.label}` });
        if (o.json) {
          process.stdout.write(
            `${JSON.stringify({ ...r, model: preset.name, config: model.config.label, trained }, null, 2)}\n`,
          );
          return;
        }
        const types = Object.entries(r.types)
          .map(([t, n]) => `${n} ${t}`)
          .join(", ");
        process.stdout.write(
          `wrote ${r.path}: ${formatBytes(r.bytes)}, ${r.tensors} tensors (${types}), ${trained ? "trained" : "random (seed 0)"} ${preset.name} weights\n` +
            `not in the file (llama.cpp picks its own): ${r.notCarried.join(", ")}\n` +
            `run it: pnpm --filter @tradeoffs/model exec node-llama-cpp complete -m ${resolve(r.path)} --gpu false --text "The " --maxTokens 64\n`,
        );
      } finally {
        model.dispose();
      }
    });
}
