/**
 * The report page's CSS: light and dark colour schemes, cards for charts, and scrolling tables.
 */

export const STYLE = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d2127; --muted: #5d6673; --rule: #d9dde3;
  --card: #f7f8fa; --accent: #2f6db5; --warn: #9a3412;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #15181d; --fg: #e6e8eb; --muted: #9aa3ae; --rule: #2e343d; --card: #1c2026; --accent: #7fb0ea; --warn: #fdba74; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.5; font-size: 15px; overflow-wrap: anywhere; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 6px; }
header .meta { color: var(--muted); margin: 0; font-size: 0.9rem; }
h2 { font-size: 1.2rem; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1rem; margin: 0 0 2px; }
p.desc { color: var(--muted); margin: 0 0 12px; font-size: 0.88rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
figure.chart { margin: 0 0 20px; padding: 16px 18px; background: var(--card); border: 1px solid var(--rule); border-radius: 8px; overflow-x: auto; }
figure.chart[data-error] .vega::after { content: "This chart failed to render: " attr(data-error); color: var(--warn); }
.no-data { color: var(--muted); font-style: italic; margin: 4px 0; }
figure.chart .vega-embed { display: block; width: 100%; }
.table-wrap { overflow-x: auto; border: 1px solid var(--rule); border-radius: 8px; margin-bottom: 18px; }
caption { caption-side: top; text-align: left; padding: 8px 10px; font-weight: 600; font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.84rem; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--rule); }
thead th { background: var(--card); font-weight: 600; }
thead tr.groups th { text-align: center; border-bottom: none; padding-bottom: 0; color: var(--muted); font-size: 0.78rem; }
thead tr.groups th:empty { background: var(--card); }
th.text { text-align: left; }
tbody th.text { white-space: normal; min-width: 9em; max-width: 24em; }
tbody tr:last-child th, tbody tr:last-child td { border-bottom: none; }
tbody tr:hover { background: var(--card); }
table.keys { width: auto; margin-top: 8px; font-size: 0.8rem; }
table.keys caption { padding: 4px 0; font-size: 0.8rem; color: var(--muted); }
table.keys th, table.keys td { text-align: left; white-space: normal; padding: 2px 10px 2px 0; }
ul.notes { padding-left: 1.2em; }
ul.notes li { margin: 2px 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.8rem; }
`;
