/**
 * Resolve the `--hardware` a user typed: a preset name, `local` (measured, with this machine's
 * memory), or a path to a JSON file holding one device (`deviceFromJson`'s fields). Files and the
 * machine's memory come through `#host` (a browser has no files; its memory is navigator.deviceMemory).
 */
import { ValueError } from "@tradeoffs/core-tensor";
import { host } from "#host";
import { type DeviceSpec, deviceFromJson, getDevice } from "./hardware.js";

/** A preset by name, or the device a `.json` file describes; `ValueError` naming the file or preset otherwise. */
export function resolveDevice(nameOrPath: string): DeviceSpec {
  if (nameOrPath.toLowerCase() === "local") {
    const memory = host.totalMemory();
    const local = getDevice("local");
    return memory ? { ...local, memoryBytes: memory.bytes, memorySource: memory.source } : local;
  }
  if (!/\.json$/i.test(nameOrPath)) return getDevice(nameOrPath);
  let text: string;
  try {
    text = host.readText(nameOrPath);
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
