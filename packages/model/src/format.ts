/**
 * Text for counts and fractions in the model's human-readable results (the claims check, notes).
 * Byte counts use core-tensor's `formatBytes`; nothing here parses text back.
 */

/**
 * A count with a K/M/B/T suffix: `1.87M`, `68.98B`, `512`.
 *
 * @example formatCount(46_702_792_704) // "46.70B"
 */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e12) return `${(n / 1e12).toFixed(2)}T`;
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** A fraction as a percentage with one decimal (`0.276` → `27.6%`); `—` when it is not finite. */
export function formatPercent(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "—";
}
