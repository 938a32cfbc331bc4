/**
 * Number formatting for tables: bytes in binary units (through core-tensor's one byte formatter),
 * parameter counts in K/M/B, times in ms. Raw numbers for CSV are not formatted here.
 */
import { formatBytes } from "@tradeoffs/model";

export { formatCount as count, formatPercent as percent } from "@tradeoffs/model";

/**
 * A byte count for a table cell: core-tensor's `formatBytes` (7.13 MiB, 129 GiB, 512 B), with "0" for
 * zero and "—" for a value that is not a finite number.
 */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return "—";
  if (n === 0) return "0";
  return formatBytes(Math.abs(n) < 1024 ? Math.round(n) : n);
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return "—";
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function flops(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e15) return `${(n / 1e15).toFixed(2)} PFLOP`;
  if (abs >= 1e12) return `${(n / 1e12).toFixed(2)} TFLOP`;
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} GFLOP`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} MFLOP`;
  return `${n.toFixed(0)} FLOP`;
}

/** Measured and estimated side by side: `7.13 MiB / 7.13 MiB`, or one value when they are equal. */
export function pair(measured: number, estimated: number): string {
  const m = bytes(measured);
  const e = bytes(estimated);
  return m === e ? `${m} =` : `${m} / ${e}`;
}
