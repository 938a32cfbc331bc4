/**
 * Shared bounds check for the KV stores: vectors are addressed by index in [0, count).
 * Not a store itself; each dtype's store lives in its own file.
 */
import { ValueError } from "@tradeoffs/core-tensor";

/** Throw a `ValueError` naming the index and the valid range when `index` is outside [0, count). */
export function checkVectorIndex(store: string, index: number, count: number): void {
  if (!(Number.isInteger(index) && index >= 0 && index < count)) {
    throw new ValueError(
      `${store}: vector ${index} is outside [0, ${count}); use an integer index below the store's count`,
      { store, index, count },
    );
  }
}

/** Throw a `ValueError` unless `count` and `dim` are positive integers (sizes of a new store). */
export function checkStoreSize(store: string, count: number, dim: number): void {
  for (const [key, v] of [
    ["count", count],
    ["dim", dim],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 1)) {
      throw new ValueError(`${store}: ${key} must be a positive integer, got ${v}`, { store, [key]: v });
    }
  }
}
