/**
 * What `compare estimate --model file.gguf` adds to the estimate: the file's real weight bytes per
 * tensor type, read from its header alone (the estimate itself uses the architecture only).
 */
import { formatBytes, type GgufModelInfo } from "@tradeoffs/model";

/** One line per tensor type, e.g. `  Q4_0: 28 tensors, 1.13 MiB`, after a summary line. */
export function ggufFileNote(path: string, info: GgufModelInfo): string {
  const rows = Object.entries(info.types)
    .sort(([, a], [, b]) => b.bytes - a.bytes)
    .map(([type, t]) => `  ${type}: ${t.tensors} tensors, ${formatBytes(t.bytes)}`);
  return [
    `${path}: ${formatBytes(info.fileSize)} on disk, ${formatBytes(info.weightBytes)} of tensor data (weights ${info.format})`,
    ...rows,
  ].join("\n");
}
