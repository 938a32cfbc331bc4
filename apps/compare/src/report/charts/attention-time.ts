/**
 * Chart: wall-clock time vs sequence length for the sweep points that carry a measured time.
 */
import { ms } from "../../format.js";
import { autoScale, top, type VegaLiteSpec } from "../chart-kit.js";
import type { SweepPoint } from "../data.js";
import { distinct } from "../units.js";
import { seqAxis, seriesLines } from "./lines.js";

export function attentionTimeSpec(points: readonly SweepPoint[]): VegaLiteSpec | null {
  const pts = points.filter((p) => p.timeMs !== undefined && Number.isFinite(p.timeMs));
  if (pts.length === 0) return null;
  const times = pts.map((p) => p.timeMs!);
  const yScale = autoScale(times, 20);
  const series = distinct([
    ...["Standard", "Flash"].filter((s) => pts.some((p) => p.series === s)),
    ...pts.map((p) => p.series),
  ]);
  const values = pts.map((p) => ({
    series: p.series,
    seq: p.seq,
    source: p.source,
    timeMs: p.timeMs!,
    time: `${ms(p.timeMs!)} ms`,
  }));
  const y = {
    field: "timeMs",
    type: "quantitative",
    scale: yScale,
    title: `Time (ms${yScale.type === "log" ? ", log scale" : ""})`,
  };
  return top({
    description: "Attention time vs sequence length",
    data: { values },
    width: "container",
    height: 300,
    layer: seriesLines(seqAxis(pts), y, series, pts, [
      { field: "series" },
      { field: "seq", title: "tokens" },
      { field: "source" },
      { field: "time" },
    ]),
  });
}
