/**
 * Table rendering: aligned plain text for terminals, GitHub Markdown, and CSV (RFC 4180 quoting).
 * Text and Markdown show formatted cells; CSV writes a table's raw numbers where it carries them.
 */

export interface Table {
  readonly title?: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Column alignment; default: first column left, others right. */
  readonly align?: readonly ("left" | "right")[];
  readonly notes?: readonly string[];
  /** The same table as raw values for CSV: numbers (bytes, ms, ratios) with the unit in the header. */
  readonly csv?: CsvTable;
}

/** Raw cells: a number, a text, or `undefined` for no value (an empty CSV cell). */
export type CsvCell = string | number | undefined;

export interface CsvTable {
  /** Short name written in the `table` column when several tables share one CSV. */
  readonly name: string;
  /** Column names with units, e.g. `kv measured (bytes)`, `decode (ms/token)`. */
  readonly headers: readonly string[];
  readonly rows: readonly (readonly CsvCell[])[];
}

function width(s: string): number {
  return [...s].length;
}

export function renderText(t: Table): string {
  const cols = t.headers.length;
  // A row shorter than the header (an error line) spills its last cell over the columns it lacks,
  // so it does not widen them.
  const full = t.rows.filter((r) => r.length >= cols);
  const w = t.headers.map((h, i) =>
    Math.max(
      width(h),
      ...full.map((r) => width(r[i] ?? "")),
      ...t.rows.map((r) => (i < r.length - 1 ? width(r[i] ?? "") : 0)),
    ),
  );
  const align = (i: number) => t.align?.[i] ?? (i === 0 ? "left" : "right");
  const cell = (s: string, i: number) =>
    align(i) === "left" ? s + " ".repeat(w[i]! - width(s)) : " ".repeat(w[i]! - width(s)) + s;
  const line = (r: readonly string[]) =>
    (r.length >= cols
      ? Array.from({ length: cols }, (_, i) => cell(r[i] ?? "", i))
      : r.map((c, i) => (i < r.length - 1 ? cell(c, i) : c))
    )
      .join("  ")
      .trimEnd();
  const out: string[] = [];
  if (t.title) out.push(t.title);
  out.push(line(t.headers), w.map((x) => "─".repeat(x)).join("  "));
  for (const r of t.rows) out.push(line(r));
  for (const n of t.notes ?? [])
    out.push(...wrap(n, NOTE_WIDTH).map((l, i) => (i === 0 ? `  ${l}` : `    ${l}`)));
  return out.join("\n");
}

/** Notes wrap to fit a 120-column terminal with their indent. */
const NOTE_WIDTH = 116;

/** Words of `text` in lines of at most `limit` characters (a longer word gets a line of its own). */
export function wrap(text: string, limit: number): string[] {
  const lines: string[] = [];
  let cur = "";
  for (const word of text.split(/\s+/)) {
    if (cur && width(cur) + 1 + width(word) > limit) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines;
}

export function renderMarkdown(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const align = (i: number) => ((t.align?.[i] ?? (i === 0 ? "left" : "right")) === "left" ? ":--" : "--:");
  const out: string[] = [];
  if (t.title) out.push(`**${t.title}**`, "");
  out.push(`| ${t.headers.map(esc).join(" | ")} |`, `| ${t.headers.map((_, i) => align(i)).join(" | ")} |`);
  for (const r of t.rows) out.push(`| ${r.map(esc).join(" | ")} |`);
  if (t.notes?.length) out.push("", ...t.notes.map((n) => `- ${n}`));
  return out.join("\n");
}

function csvCell(c: CsvCell): string {
  if (c === undefined) return "";
  const s = typeof c === "number" ? (Number.isFinite(c) ? String(c) : "") : c;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvLines(headers: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [headers, ...rows].map((r) => r.map(csvCell).join(",")).join("\n");
}

/** One table as CSV: its raw values when it has them, else its text cells. */
export function renderCsv(t: Table): string {
  return t.csv ? csvLines(t.csv.headers, t.csv.rows) : csvLines(t.headers, t.rows);
}

/**
 * Several tables as ONE CSV: a first `table` column names each row's table, and the header is the
 * union of the tables' columns in first-seen order (cells a table does not have stay empty).
 */
export function renderCsvTables(tables: readonly Table[]): string {
  const parts = tables.map(
    (t): CsvTable => t.csv ?? { name: t.title ?? "table", headers: t.headers, rows: t.rows },
  );
  const headers = [...new Set(parts.flatMap((p) => p.headers))];
  const rows = parts.flatMap((p) => {
    const at = p.headers.map((h) => headers.indexOf(h));
    return p.rows.map((r) => {
      const out: CsvCell[] = [p.name, ...headers.map(() => undefined)];
      r.forEach((c, i) => {
        out[1 + at[i]!] = c;
      });
      return out;
    });
  });
  return csvLines(["table", ...headers], rows);
}
