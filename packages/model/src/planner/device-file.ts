/**
 * Resolve the `--hardware` a user typed: a preset name, `local` (measured, with this machine's
 * memory), or a path to a JSON file holding one device (`deviceFromJson`'s fields). Node-only (reads
 * files and the OS); hardware.ts stays browser-safe.
 */
import { readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { ValueError } from "@tradeoffs/core-tensor";
import { type DeviceSpec, deviceFromJson, getDevice } from "./hardware.js";

/** A preset by name, or the device a `.json` file describes; `ValueError` naming the file or preset otherwise. */
export function resolveDevice(nameOrPath: string): DeviceSpec {
  if (nameOrPath.toLowerCase() === "local")
    return { ...getDevice("local"), memoryBytes: totalmem(), memorySource: "os.totalmem() of this machine" };
  if (!/\.json$/i.test(nameOrPath)) return getDevice(nameOrPath);
  let text: string;
  try {
    text = readFileSync(nameOrPath, "utf8");
  } catch (e) {
    throw new ValueError(`cannot read hardware file ${nameOrPath}: ${(e as Error).message}`, {
      path: nameOrPath,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValueError(`hardware file ${nameOrPath} is not valid JSON (${(e as Error).message})`, {
      path: nameOrPath,
    });
  }
  try {
    return deviceFromJson(json);
  } catch (e) {
    throw new ValueError(`${nameOrPath}: ${(e as Error).message}`, { path: nameOrPath });
  }
}
