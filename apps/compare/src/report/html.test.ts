import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { layerStates } from "./charts/checkpoint.js";
import type { ReportData } from "./data.js";
import { buildCharts, CHART_IDS, renderHtmlReport, scriptJson } from "./html.js";
import { configLabels } from "./labels.js";
import { SAMPLE_REPORT_DATA, SPARSE_REPORT_DATA } from "./sample-data.js";

const CHROMIUM = "/usr/bin/chromium";
/** The sample report's screenshot goes to a temp dir; `pnpm report` makes the README's from a real run. */
const SCREENSHOT = join(tmpdir(), "tradeoffs-report-sample.png");

/** The text of `<script type="application/json" id="…">`, as a browser would read it. */
function jsonScript(html: string, id: string): unknown {
  const m = new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(html);
  if (!m) throw new Error(`no #${id} script`);
  return JSON.parse(m[1]!);
}

describe("renderHtmlReport (static)", () => {
  const html = renderHtmlReport(SAMPLE_REPORT_DATA);

  it("needs no network: no remote scripts, styles, fonts or images, and a CSP that forbids fetches", () => {
    // Script tags that load by URL.
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    // The page's own markup and styles (script bodies removed: the inlined libraries mention URLs and
    // tag names in strings, never load them): no tag that loads a resource, no remote reference.
    const markup = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "");
    expect(markup).not.toMatch(/<(link|img|iframe|source|audio|video|embed|object)\b/i);
    expect(markup).not.toMatch(/https?:\/\//i);
    expect(markup).not.toMatch(/\ssrc=/i);
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/url\(\s*['"]?(https?:)?\/\//i);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    // The three libraries are inlined.
    for (const lib of ["vega", "vega-lite", "vega-embed"])
      expect(html).toContain(`<script data-library="${lib}">`);
    expect(html.length).toBeGreaterThan(500_000);
  });

  it("has a container for every chart, each with data in the fixture", () => {
    for (const id of CHART_IDS) expect(html).toContain(`data-chart="${id}"`);
    expect(html).not.toContain('data-empty="true"');
    const charts = buildCharts(SAMPLE_REPORT_DATA);
    expect(charts.map((c) => c.id)).toEqual([...CHART_IDS]);
    for (const c of charts) expect(c.spec, c.id).not.toBeNull();
  });

  it("embeds the data as JSON that round-trips, even when labels contain </script> and <!--", () => {
    const evil: ReportData = {
      ...SAMPLE_REPORT_DATA,
      title: "x </script><script>alert(1)</script>",
      rows: [{ ...SAMPLE_REPORT_DATA.rows[0]!, config: "</script><script>window.pwned=1</script><!--" }],
      notes: ["</SCRIPT> & <b>not bold</b> \u2028"],
    };
    const out = renderHtmlReport(evil);
    expect(jsonScript(out, "report-data")).toEqual(JSON.parse(JSON.stringify(evil)));
    const charts = jsonScript(out, "report-charts") as { id: string }[];
    expect(charts.map((c) => c.id)).toEqual([...CHART_IDS]);
    // Only our own scripts open and close: 2 JSON + 3 libraries + 1 client.
    expect(out.match(/<script\b/gi)).toHaveLength(6);
    expect(out.match(/<\/script>/gi)).toHaveLength(6);
    expect(out).not.toContain("window.pwned=1</script>");
    expect(out).toContain("x &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(out).toContain("&lt;b&gt;not bold&lt;/b&gt;");
    expect(scriptJson("</script>\u2028")).toBe('"\\u003c/script\\u003e\\u2028"');
  });

  it("builds vega-lite specs that compile without warnings", () => {
    const require = createRequire(import.meta.url);
    const vl = require("vega-lite") as {
      compile: (spec: unknown, opts?: { logger?: unknown }) => { spec: unknown };
    };
    for (const data of [SAMPLE_REPORT_DATA, SPARSE_REPORT_DATA]) {
      for (const chart of buildCharts(data)) {
        if (!chart.spec) continue;
        const warnings: string[] = [];
        const logger = {
          level: () => logger,
          error: (...a: unknown[]) => warnings.push(`error: ${a.join(" ")}`),
          warn: (...a: unknown[]) => warnings.push(`warn: ${a.join(" ")}`),
          info: () => logger,
          debug: () => logger,
        };
        expect(() => vl.compile(chart.spec, { logger }), chart.id).not.toThrow();
        expect(warnings, chart.id).toEqual([]);
      }
    }
  });

  it("shows a short note, not an error, for charts without data", () => {
    const out = renderHtmlReport(SPARSE_REPORT_DATA);
    for (const id of CHART_IDS) expect(out).toContain(`data-chart="${id}"`);
    for (const id of [
      "memory-train",
      "memory-scale",
      "attention-memory",
      "kv-memory",
      "quality",
      "checkpoint",
    ]) {
      expect(out).toMatch(
        new RegExp(`data-chart="${id}" data-empty="true">[\\s\\S]*?No data for this run\\.`),
      );
    }
    expect(out).toMatch(/data-chart="serve" data-empty="true">[\s\S]*?No serve rows in this run/);
    expect(out).toContain('data-chart="memory-infer">');
    const empty: ReportData = { ...SPARSE_REPORT_DATA, rows: [], notes: [] };
    const none = renderHtmlReport(empty);
    expect(none.match(/data-empty="true"/g)).toHaveLength(CHART_IDS.length);
    expect(none).toContain("No configurations in this run.");
  });
});

// The callbacks given to page.waitForFunction / page.evaluate run in the page. This package compiles
// without the DOM lib, so declare (module-locally) the little of it that they use.
interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  getBoundingClientRect(): {
    readonly width: number;
    readonly height: number;
    readonly left: number;
    readonly top: number;
    readonly right: number;
    readonly bottom: number;
  };
  readonly textContent: string | null;
}
declare const document: PageElement & { readonly body: PageElement };
/** The vega views the report's client keeps by chart id. */
declare const window: {
  readonly reportViews: Record<string, { data(name: string): Record<string, unknown>[] }>;
};

interface Rendered {
  readonly consoleErrors: string[];
  readonly consoleWarnings: string[];
  readonly pageErrors: string[];
  readonly blocked: string[];
}

describe("renderHtmlReport in headless Chromium", () => {
  it("renders every chart offline with no console or page errors, and takes a screenshot", async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      const msg = `${CHROMIUM} not found: install Debian's Chromium with \`apt-get install -y chromium\``;
      if (process.env.CI) throw new Error(`${msg} (.ci/run does this when apps/compare/test-browser exists)`);
      ctx.skip(`${msg} to run the browser test`);
    }
    const { chromium } = await import("playwright-core");
    const dir = mkdtempSync(join(tmpdir(), "tradeoffs-report-"));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-quic",
        "--disable-component-update",
        "--disable-sync",
      ],
      timeout: 30_000,
    });
    try {
      const open = async (data: ReportData, name: string, colorScheme: "light" | "dark") => {
        const file = join(dir, `${name}.html`);
        writeFileSync(file, renderHtmlReport(data));
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, colorScheme });
        const seen: Rendered = { consoleErrors: [], consoleWarnings: [], pageErrors: [], blocked: [] };
        page.on("console", (m) => {
          if (m.type() === "error") seen.consoleErrors.push(m.text());
          if (m.type() === "warning") seen.consoleWarnings.push(m.text());
        });
        page.on("pageerror", (e) => seen.pageErrors.push(String(e)));
        await page.route("**/*", (route) => {
          const url = route.request().url();
          if (url.startsWith("file:")) return route.continue();
          seen.blocked.push(url);
          return route.abort();
        });
        await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
        await page.waitForFunction(
          () =>
            [...document.querySelectorAll("[data-chart]:not([data-empty])")].every(
              (el) => el.getAttribute("data-rendered") === "true" || el.hasAttribute("data-error"),
            ) && document.body.getAttribute("data-report-ready") === "true",
          undefined,
          { timeout: 30_000 },
        );
        const state = await page.evaluate(() =>
          [...document.querySelectorAll("[data-chart]")].map((el) => {
            const svg = el.querySelector("svg");
            const box = svg?.getBoundingClientRect();
            return {
              id: el.dataset.chart,
              empty: el.dataset.empty === "true",
              rendered: el.dataset.rendered === "true",
              error: el.dataset.error ?? null,
              width: box?.width ?? 0,
              height: box?.height ?? 0,
              marks: el.querySelectorAll("svg .mark-rect path, svg .mark-symbol path, svg .mark-line path")
                .length,
            };
          }),
        );
        return { page, seen, state };
      };

      // Light mode, every chart with data: the README screenshot.
      const light = await open(SAMPLE_REPORT_DATA, "sample", "light");
      expect(light.state.map((s) => s.id)).toEqual([...CHART_IDS]);
      for (const s of light.state) {
        expect(s, s.id).toMatchObject({ empty: false, rendered: true, error: null });
        expect(s.width, s.id).toBeGreaterThan(200);
        expect(s.height, s.id).toBeGreaterThan(100);
        expect(s.marks, s.id).toBeGreaterThan(0);
      }
      expect(light.seen).toEqual({ consoleErrors: [], consoleWarnings: [], pageErrors: [], blocked: [] });

      // What the charts drew, read back from their vega views, equals the tables and the data.
      const drawn = await light.page.evaluate(() => {
        const speed = [...document.querySelectorAll("table")].find((t) =>
          (t.querySelector("caption")?.textContent ?? "").startsWith("Speed and quality"),
        )!;
        const trainMs: Record<string, string> = {};
        for (const tr of speed.querySelectorAll("tbody tr")) {
          const cells = [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "");
          trainMs[tr.querySelector("th")?.textContent ?? ""] = cells[2]!;
        }
        return {
          trainMs,
          stepTimes: window.reportViews["attention-time"]!.data("step-times"),
          layers: window.reportViews.checkpoint!.data("layers"),
        };
      });
      expect(drawn.stepTimes.length).toBeGreaterThan(0);
      for (const p of drawn.stepTimes) expect(`${drawn.trainMs[String(p.config)]} ms`).toBe(p.time);
      for (const sched of SAMPLE_REPORT_DATA.checkpoint) {
        expect(
          drawn.layers.filter((c) => c.policy === sched.policy).map((c) => c.state),
          sched.policy,
        ).toEqual(layerStates(sched));
      }

      // Axis and legend labels are never cut (vega ends a cut label with "…"), and no two legend
      // labels of a chart overlap.
      const labels = await light.page.evaluate(() =>
        [...document.querySelectorAll("[data-chart]")].map((el) => ({
          id: el.dataset.chart,
          texts: [...el.querySelectorAll(".role-axis-label text, .role-legend-label text")].map(
            (t) => t.textContent ?? "",
          ),
          legend: [...el.querySelectorAll(".role-legend-label text")].map((t) => {
            const b = t.getBoundingClientRect();
            return { text: t.textContent ?? "", left: b.left, top: b.top, right: b.right, bottom: b.bottom };
          }),
        })),
      );
      for (const c of labels) {
        for (const t of c.texts) expect(t.endsWith("…"), `${c.id}: ${t}`).toBe(false);
        for (const [i, a] of c.legend.entries()) {
          for (const b of c.legend.slice(i + 1)) {
            const overlap =
              a.left < b.right - 0.5 &&
              b.left < a.right - 0.5 &&
              a.top < b.bottom - 0.5 &&
              b.top < a.bottom - 0.5;
            expect(overlap, `${c.id}: "${a.text}" overlaps "${b.text}"`).toBe(false);
          }
        }
      }
      const legendTexts = labels.find((c) => c.id === "measured-vs-estimated")!.legend.map((l) => l.text);
      const shown = configLabels(SAMPLE_REPORT_DATA.rows.map((r) => r.config));
      for (const r of SAMPLE_REPORT_DATA.rows) expect(legendTexts).toContain(shown.short(r.config));

      await light.page.screenshot({ path: SCREENSHOT, fullPage: true });
      await light.page.close();

      // Dark mode, and a sparse run whose empty charts show notes.
      const dark = await open(SPARSE_REPORT_DATA, "sparse", "dark");
      for (const s of dark.state) {
        expect(s, s.id).toMatchObject({ error: null, rendered: !s.empty });
      }
      expect(dark.state.filter((s) => s.empty).length).toBeGreaterThan(0);
      expect(dark.seen).toEqual({ consoleErrors: [], consoleWarnings: [], pageErrors: [], blocked: [] });
      await dark.page.close();
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(existsSync(SCREENSHOT)).toBe(true);
  }, 60_000);
});
