/**
 * The report's results tables (memory measured vs estimated and projected; speed and quality),
 * as HTML built from the same report rows as the charts.
 */
import { bytes, ms, percent } from "../format.js";
import type { CategoryBytes, ReportData } from "./data.js";
import { escapeHtml } from "./escape.js";
import { distinct, total } from "./units.js";

/** A table; `groups` adds a first header row of column groups (label, number of columns spanned). */
function tableHtml(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  caption: string,
  groups: readonly (readonly [string, number])[] = [],
): string {
  const groupRow =
    groups.length > 0
      ? `<tr class="groups">${groups.map(([label, span]) => `<th scope="colgroup" colspan="${span}">${escapeHtml(label)}</th>`).join("")}</tr>`
      : "";
  const th = headers
    .map((h, i) => `<th scope="col"${i === 0 ? ' class="text"' : ""}>${escapeHtml(h)}</th>`)
    .join("");
  const trs = rows
    .map(
      (cells) =>
        `<tr>${cells
          .map((c, i) =>
            i === 0 ? `<th scope="row" class="text">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`,
          )
          .join("")}</tr>`,
    )
    .join("\n");
  return `<div class="table-wrap"><table>\n<caption>${escapeHtml(caption)}</caption>\n<thead>${groupRow}<tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table></div>`;
}

/** The rows as two readable tables: memory (measured vs estimated, projected), then speed and quality. */
export function resultsHtml(data: ReportData): string {
  if (data.rows.length === 0) return `<p class="no-data">No configurations in this run.</p>`;
  const dash = "—";
  const diff = (m: number, e: number) =>
    e > 0 ? `${m >= e ? "+" : ""}${((m / e - 1) * 100).toFixed(1)}%` : dash;
  const run = (r: { measured: CategoryBytes; estimated: CategoryBytes } | undefined) => {
    if (!r) return [dash, dash, dash];
    const m = total(r.measured);
    const e = total(r.estimated);
    return [bytes(m), bytes(e), diff(m, e)];
  };
  const scaleModels = distinct(data.rows.flatMap((r) => (r.scale ? [r.scale.model] : [])));
  const memory = tableHtml(
    [
      "Configuration",
      "measured",
      "estimated",
      "meas. vs est.",
      "measured",
      "estimated",
      "meas. vs est.",
      "estimated",
    ],
    data.rows.map((r) => [
      r.config,
      ...run(r.infer),
      ...run(r.train),
      r.scale
        ? scaleModels.length === 1
          ? bytes(r.scale.totalBytes)
          : `${bytes(r.scale.totalBytes)} (${r.scale.model})`
        : dash,
    ]),
    `Peak memory on ${data.model}: measured vs estimated totals`,
    [
      ["", 1],
      ["Inference", 3],
      ["Training", 3],
      [scaleModels.length === 1 ? `Projected to ${scaleModels[0]}` : "Projected", 1],
    ],
  );
  const speed = tableHtml(
    [
      "Configuration",
      "prefill tok/s",
      "decode ms/tok",
      "train ms/step",
      "loss Δ",
      "top-1",
      "KL",
      "perplexity (ref.)",
    ],
    data.rows.map((r) => {
      const q = r.quality;
      return [
        r.config,
        r.infer ? r.infer.prefillTokensPerSec.toFixed(0) : dash,
        r.infer ? ms(r.infer.decodeMsPerToken) : dash,
        r.train ? ms(r.train.stepMs) : dash,
        q ? q.lossDelta.toFixed(4) : dash,
        q ? percent(q.top1Agreement) : dash,
        q ? q.klDivergence.toExponential(2) : dash,
        q ? `${q.perplexity.toFixed(2)} (${q.referencePerplexity.toFixed(2)})` : dash,
      ];
    }),
    `Speed and quality on ${data.model}`,
    [
      ["", 1],
      ["Speed", 3],
      ["Quality vs the reference model", 4],
    ],
  );
  return `${memory}\n${speed}`;
}
