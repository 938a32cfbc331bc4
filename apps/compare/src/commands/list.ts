/**
 * `list`: every registered strategy (slot, options with defaults, description) and every preset.
 */
import { entryName, getPreset, PRESET_NAMES, registry } from "@tradeoffs/model";
import { Command } from "commander";
import { emit } from "./options.js";

/** The `list` subcommand. */
export function listCommand(): Command {
  return new Command("list").description("list the strategies and presets").action(() => {
    const rows = Object.values(registry).map((e) => {
      const name = entryName(e);
      if (typeof e === "function") {
        const d = e.definition;
        const opts = Object.entries(d.options)
          .map(([k, s]) => `${k}=${String(s.default === Number.POSITIVE_INFINITY ? "inf" : s.default)}`)
          .join(",");
        return [name, d.slot, opts, d.description];
      }
      return [name, "(composition)", "", e.description];
    });
    emit(
      {
        title: "Strategies",
        headers: ["name", "slot", "options (defaults)", "description"],
        rows,
        align: ["left", "left", "left", "left"],
      },
      {},
    );
    const presetRows = PRESET_NAMES.map((n) => {
      const p = getPreset(n);
      return [n, p.executable ? "measured" : "estimate", p.description];
    });
    process.stdout.write("\n");
    emit(
      {
        title: "Presets",
        headers: ["name", "kind", "description"],
        rows: presetRows,
        align: ["left", "left", "left"],
      },
      {},
    );
  });
}
