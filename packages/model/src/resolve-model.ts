/**
 * One way to name a model wherever the tools take one (`--model`, `--scale`, `plan`): a preset name
 * or the path of a Hugging Face `config.json` (or of the folder holding it). Not here: reading the
 * families (hf-config.ts) or the presets themselves (presets.ts).
 */
import { type ArchSpec, closestMatch, ValueError } from "@tradeoffs/core-tensor";
import { host } from "#host";
import { HF_FAMILIES, readHfConfig } from "./hf-config.js";
import { getPreset, PRESET_NAMES, type PresetName } from "./presets.js";

/** A model named by the user, ready for `estimate()` and the planner. */
export interface ResolvedModel {
  /** The preset's name, or the config's folder or file name. */
  readonly name: string;
  /** What `estimate()` takes: the preset's name (its defaults follow) or the architecture read. */
  readonly model: PresetName | ArchSpec;
  /** The architecture (the preset's, or read from config.json). */
  readonly arch: ArchSpec;
  /** Whether the model came from a preset or a Hugging Face config.json. */
  readonly source: "preset" | "config.json";
  /** Checkpoint parameters `arch` does not count (negative: over-counts); 0 when modelled fully. */
  readonly missingParams: number;
  /** What the estimate approximates for this model, one line each (print them beside its figures). */
  readonly notes: readonly string[];
}

function looksLikePath(s: string): boolean {
  return /\.json$/i.test(s) || /[\\/]/.test(s) || host.exists(s);
}

/**
 * Resolve a preset name (case-insensitive) or a config.json path (a folder means its
 * `config.json`). An unknown name throws a `ValueError` naming the closest preset, every preset and
 * the config.json families; a bad config.json throws what `readHfConfig` throws.
 */
export function resolveModel(nameOrPath: string): ResolvedModel {
  const preset = PRESET_NAMES.find((k) => k.toLowerCase() === nameOrPath.toLowerCase());
  if (preset) {
    const p = getPreset(preset);
    return {
      name: preset,
      model: preset,
      arch: p.arch,
      source: "preset",
      missingParams: p.modelled?.missingParams ?? 0,
      notes: p.modelled?.notes ?? [],
    };
  }
  if (!looksLikePath(nameOrPath)) {
    const near = closestMatch(nameOrPath, PRESET_NAMES);
    throw new ValueError(
      `unknown model '${nameOrPath}'${near ? ` (did you mean '${near}'?)` : ""}; presets: ${PRESET_NAMES.join(", ")}; or the path of a Hugging Face config.json (model_type ${HF_FAMILIES.join(", ")})`,
      { model: nameOrPath, presets: PRESET_NAMES },
    );
  }
  const isDir = host.exists(nameOrPath) && host.isDirectory(nameOrPath);
  const m = readHfConfig(isDir ? host.join(nameOrPath, "config.json") : nameOrPath);
  return {
    name: m.arch.name,
    model: m.arch,
    arch: m.arch,
    source: "config.json",
    missingParams: m.missingParams,
    notes: m.notes,
  };
}
