/** The model-package surface the CLI uses, in one place. */
export { entryName as entryNameOf } from "@tradeoffs/core-tensor";
export type { WorkloadSpec } from "@tradeoffs/core-tensor";
export { PRESET_NAMES, type PresetName, estimate, getPreset, parse, registry } from "@tradeoffs/model";
