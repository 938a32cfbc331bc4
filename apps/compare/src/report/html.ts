/**
 * The compare app's HTML report: ONE self-contained file that works offline at view time.
 *
 * The browser builds of vega, vega-lite and vega-embed are read from node_modules at render time and
 * inlined; the report data and the vega-lite specs (built here, in TypeScript, from the data) are
 * embedded as JSON in `<script type="application/json">` tags. A Content-Security-Policy in the page
 * forbids every network fetch, so the file behaves the same on a machine without a network.
 *
 * This module assembles the page; charts (charts/), tables, styles, the client script and the inlined
 * libraries each live in their own module beside it.
 */
import { buildCharts, type ChartId, type ReportChart } from "./charts/index.js";
import { CLIENT } from "./client.js";
import type { ReportData } from "./data.js";
import { escapeHtml, inlineText, scriptJson } from "./escape.js";
import { chartLibraries } from "./libraries.js";
import { STYLE } from "./style.js";
import { resultsHtml } from "./tables.js";

export type { VegaLiteSpec } from "./chart-kit.js";
export { buildCharts, CHART_IDS, type ChartId, type ReportChart } from "./charts/index.js";
export { escapeHtml, scriptJson } from "./escape.js";
export { chartLibraries } from "./libraries.js";
export { byteUnit } from "./units.js";

function chartHtml(chart: ReportChart): string {
  const head = `<h3>${escapeHtml(chart.title)}</h3>\n<p class="desc">${inlineText(chart.description)}</p>`;
  if (chart.spec === null) {
    return `<figure class="chart" data-chart="${chart.id}" data-empty="true">\n${head}\n<p class="no-data">${inlineText(chart.empty ?? "No data for this run.")}</p>\n</figure>`;
  }
  const keys = chart.keys?.length
    ? `\n<table class="keys"><caption>Abbreviated labels</caption>\n<tbody>\n${chart.keys
        .map((k) => `<tr><th scope="row">${escapeHtml(k.short)}</th><td>${escapeHtml(k.full)}</td></tr>`)
        .join("\n")}\n</tbody>\n</table>`
    : "";
  return `<figure class="chart" data-chart="${chart.id}">\n${head}\n<div class="vega" role="img" aria-label="${escapeHtml(chart.title)}"></div>${keys}\n</figure>`;
}

/** Blocks every fetch (images, fonts, XHR, frames): the report must work with no network. */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:";

/** Renders the report as one self-contained HTML page (no network needed to view it). */
export function renderHtmlReport(data: ReportData): string {
  const charts = buildCharts(data);
  const libs = chartLibraries();
  const section = (title: string, ids: readonly ChartId[]) =>
    `<section>\n<h2>${escapeHtml(title)}</h2>\n${charts
      .filter((c) => ids.includes(c.id))
      .map(chartHtml)
      .join("\n")}\n</section>`;
  const notes =
    data.notes.length > 0
      ? `<ul class="notes">\n${data.notes.map((n) => `<li>${inlineText(n)}</li>`).join("\n")}\n</ul>`
      : `<p class="no-data">No notes for this run.</p>`;
  const generator = libs.map((l) => `${l.name} ${l.version}`).join(", ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="tradeoffs compare (${escapeHtml(generator)})">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(data.title)}</h1>
<p class="meta">Measured on <code>${escapeHtml(data.model)}</code> · generated ${escapeHtml(data.generatedAt)} · ${data.rows.length} configuration${data.rows.length === 1 ? "" : "s"}</p>
</header>
${section("Memory", ["memory-infer", "memory-train", "memory-scale", "measured-vs-estimated"])}
${section("Sequence length", ["attention-memory", "attention-time", "kv-memory"])}
${section("Quality", ["quality"])}
${section("Training and serving", ["checkpoint", "serve"])}
<section>
<h2>Results</h2>
${resultsHtml(data)}
</section>
<section>
<h2>Notes</h2>
${notes}
</section>
<footer>Self-contained report: charts drawn in the page with ${escapeHtml(generator)}, inlined; no network is used.</footer>
</main>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script type="application/json" id="report-charts">${scriptJson(charts)}</script>
${libs.map((l) => `<script data-library="${l.name}">${l.code}</script>`).join("\n")}
<script>${CLIENT}</script>
</body>
</html>
`;
}
