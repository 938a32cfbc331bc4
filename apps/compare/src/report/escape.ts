/**
 * Escaping for the HTML report: text in elements and attributes, JSON inside
 * `<script type="application/json">`, inline `code` spans, and inlined script bodies.
 */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * JSON safe to place inside `<script type="application/json">`: `<`, `>` and `&` become `\u003c`…
 * (so no `</script>` or `<!--` can appear), and U+2028/U+2029 are escaped too. `JSON.parse` of the
 * element's text gives back the same value.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Inline text (`code` spans) in notes and descriptions: `x` → <code>x</code>, everything escaped. */
export function inlineText(s: string): string {
  return escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>");
}

/** Script text safe inside `<script>`: a literal `</script` or `<!--` would end or confuse the element. */
export function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}
