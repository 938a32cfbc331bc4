/**
 * Number formatting for tables: bytes in binary units, parameter counts in K/M/B, times in ms.
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** 7.13 MiB, 129 GiB, 0 B. */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return "—";
  if (n === 0) return "0";
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(i === 0 ? 0 : digits)} ${UNITS[i]}`;
}

/** 1.87M, 68.98B, 512. */
export function count(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e12) return `${(n / 1e12).toFixed(2)}T`;
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
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

export function percent(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "—";
}
