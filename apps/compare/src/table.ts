/**
 * Table rendering: aligned plain text for terminals, GitHub Markdown, and CSV (RFC 4180 quoting).
 */

export interface Table {
  readonly title?: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Column alignment; default: first column left, others right. */
  readonly align?: readonly ("left" | "right")[];
  readonly notes?: readonly string[];
}

function width(s: string): number {
  return [...s].length;
}

export function renderText(t: Table): string {
  const cols = t.headers.length;
  const w = t.headers.map((h, i) => Math.max(width(h), ...t.rows.map((r) => width(r[i] ?? ""))));
  const align = (i: number) => t.align?.[i] ?? (i === 0 ? "left" : "right");
  const cell = (s: string, i: number) =>
    align(i) === "left" ? s + " ".repeat(w[i]! - width(s)) : " ".repeat(w[i]! - width(s)) + s;
  const line = (r: readonly string[]) =>
    Array.from({ length: cols }, (_, i) => cell(r[i] ?? "", i))
      .join("  ")
      .trimEnd();
  const out: string[] = [];
  if (t.title) out.push(t.title);
  out.push(line(t.headers), w.map((x) => "─".repeat(x)).join("  "));
  for (const r of t.rows) out.push(line(r));
  for (const n of t.notes ?? []) out.push(`  ${n}`);
  return out.join("\n");
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

export function renderCsv(t: Table): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [t.headers, ...t.rows].map((r) => r.map(q).join(",")).join("\n");
}
