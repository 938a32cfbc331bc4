/**
 * Charts (c), (d): bytes vs sequence length per series (attention activations, KV cache),
 * measured where it ran here and estimated elsewhere.
 */
import { bytes } from "../../format.js";
import { logBytesChannel, top, type VegaLiteSpec } from "../chart-kit.js";
import type { SweepPoint } from "../data.js";
import { byteUnit, distinct, finitePositive, inUnit } from "../units.js";
import { seqAxis, seriesLines } from "./lines.js";

export function sweepSpec(
  points: readonly SweepPoint[],
  what: string,
  seriesOrder: readonly string[],
): VegaLiteSpec | null {
  const pts = points.filter((p) => Number.isFinite(p.bytes) && Number.isFinite(p.seq));
  if (pts.length === 0) return null;
  const unit = byteUnit(Math.max(...pts.map((p) => p.bytes)));
  const log = pts.every((p) => finitePositive(p.bytes));
  const series = distinct([
    ...seriesOrder.filter((s) => pts.some((p) => p.series === s)),
    ...pts.map((p) => p.series),
  ]);
  const values = pts.map((p) => ({
    series: p.series,
    seq: p.seq,
    source: p.source,
    value: log ? p.bytes : inUnit(p.bytes, unit),
    bytes: bytes(p.bytes),
  }));
  const y = log
    ? logBytesChannel(
        "value",
        what,
        pts.map((p) => p.bytes),
      )
    : { field: "value", type: "quantitative", scale: { zero: true }, title: `${what} (${unit.name})` };
  return top({
    description: `${what} vs sequence length`,
    data: { values },
    width: "container",
    height: 340,
    layer: seriesLines(seqAxis(pts), y, series, pts, [
      { field: "series" },
      { field: "seq", title: "tokens" },
      { field: "source" },
      { field: "bytes" },
    ]),
  });
}
