/**
 * Units for the report's numbers: the binary byte unit an axis is drawn in, totals over the ledger
 * categories, and small numeric helpers. Text formatting of a single value lives in ../format.ts.
 */
import { CATEGORIES } from "@tradeoffs/model";
import type { CategoryBytes } from "./data.js";

export interface ByteUnit {
  readonly name: "B" | "KiB" | "MiB" | "GiB" | "TiB";
  readonly divisor: number;
}

export const BYTE_UNITS: readonly ByteUnit[] = [
  { name: "B", divisor: 1 },
  { name: "KiB", divisor: 1024 },
  { name: "MiB", divisor: 1024 ** 2 },
  { name: "GiB", divisor: 1024 ** 3 },
  { name: "TiB", divisor: 1024 ** 4 },
];

/** The largest binary unit in which `maxBytes` is at least 1 (axis values then read 1…1023). */
export function byteUnit(maxBytes: number): ByteUnit {
  let unit = BYTE_UNITS[0]!;
  for (const u of BYTE_UNITS) if (Number.isFinite(maxBytes) && Math.abs(maxBytes) >= u.divisor) unit = u;
  return unit;
}

export function inUnit(n: number, unit: ByteUnit): number {
  return n / unit.divisor;
}

export function total(c: CategoryBytes): number {
  return CATEGORIES.reduce((s, k) => s + (c[k] ?? 0), 0);
}

export function finitePositive(n: number): boolean {
  return Number.isFinite(n) && n > 0;
}

/** Distinct values in first-seen order. */
export function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
