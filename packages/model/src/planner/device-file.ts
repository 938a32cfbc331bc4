/**
 * Resolve the `--hardware` a user typed: a preset name, `local`, or a path to a JSON file holding
 * one device (`deviceFromJson`'s fields). Node-only (reads a file); hardware.ts stays browser-safe.
 */
import { readFileSync } from "node:fs";
import { ValueError } from "@tradeoffs/core-tensor";
import { type DeviceSpec, deviceFromJson, getDevice } from "./hardware.js";

/** A preset by name, or the device a `.json` file describes; `ValueError` naming the file or preset otherwise. */
export function resolveDevice(nameOrPath: string): DeviceSpec {
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
