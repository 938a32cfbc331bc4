/** The model-package surface the CLI uses, in one place. */
export type { WorkloadSpec } from "@tradeoffs/core-tensor";
export { entryName as entryNameOf } from "@tradeoffs/core-tensor";
export {
  estimate,
  getHardware,
  getPreset,
  HARDWARE,
  loadHfConfig,
  PRESET_NAMES,
  type PresetName,
  parse,
  registry,
} from "@tradeoffs/model";
