import { describe, expect, it } from "vitest";
import { ms } from "../format.js";
import { layerStates } from "./charts/checkpoint.js";
import type { ReportData } from "./data.js";
import { buildCharts, renderHtmlReport } from "./html.js";
import { configLabels, MAX_LABEL } from "./labels.js";
import { SAMPLE_REPORT_DATA, SPARSE_REPORT_DATA } from "./sample-data.js";
import { resultsHtml } from "./tables.js";
import { byteUnit, inUnit } from "./units.js";

type Values = Record<string, unknown>[];
/** The inline values of a (possibly nested) spec's dataset by name. */
function dataset(spec: unknown, name: string): Values {
  const found: Values[] = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === "object") {
      const o = x as Record<string, unknown>;
      const d = o.data as { name?: string; values?: Values } | undefined;
      if (d?.name === name && d.values) found.push(d.values);
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(spec);
  if (found.length !== 1) throw new Error(`dataset ${name}: found ${found.length}`);
  return found[0]!;
}
const chart = (data: ReportData, id: string) => buildCharts(data).find((c) => c.id === id)!;

/** The speed table's cells by row label: [prefill tok/s, decode ms/tok, train ms/step, …]. */
function speedTable(data: ReportData): Map<string, string[]> {
  const html = resultsHtml(data);
  const speed = html.slice(html.indexOf("<caption>Speed and quality"));
  const out = new Map<string, string[]>();
  for (const m of speed.matchAll(/<tr><th scope="row" class="text">([^<]*)<\/th>(.*?)<\/tr>/g)) {
    out.set(
      m[1]!.replace(/&amp;/g, "&"),
      [...m[2]!.matchAll(/<td>([^<]*)<\/td>/g)].map((c) => c[1]!),
    );
  }
  return out;
}

describe("training step time chart", () => {
  it("plots the speed table's train ms/step for Baseline and Flash, and nothing else", () => {
    const values = dataset(chart(SAMPLE_REPORT_DATA, "attention-time").spec, "step-times");
    const table = speedTable(SAMPLE_REPORT_DATA);
    expect(values.map((v) => v.config)).toEqual(["Baseline", "Flash"]);
    for (const v of values) {
      const row = SAMPLE_REPORT_DATA.rows.find((r) => r.config === v.config)!;
      expect(v.stepMs).toBe(row.train!.stepMs);
      expect(`${v.time}`).toBe(`${table.get(String(v.config))![2]} ms`);
      expect(v.shape).toBe(`batch ${row.train!.batch} × ${row.train!.seq} tokens`);
    }
    expect(chart(SAMPLE_REPORT_DATA, "attention-time").title).toMatch(/training step/i);
    expect(ms(values[0]!.stepMs as number)).toBe(table.get("Baseline")![2]);
  });
});

describe("checkpoint chart", () => {
  const spec = chart(SAMPLE_REPORT_DATA, "checkpoint").spec;
  it("draws each policy's own segments: every=2, sqrt and all differ", () => {
    const cells = dataset(spec, "layers");
    const rowOf = (policy: string) => cells.filter((c) => c.policy === policy).map((c) => c.state);
    expect(rowOf("None")).toEqual(Array(8).fill("all kept"));
    expect(rowOf("Ckpt[every=2]")).toEqual(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? "input kept, recomputed" : "recomputed")),
    );
    expect(rowOf("Ckpt[sqrt]")).toEqual(
      Array.from({ length: 8 }, (_, i) => (i % 3 === 0 ? "input kept, recomputed" : "recomputed")),
    );
    expect(rowOf("Ckpt[all]")).toEqual(Array(8).fill("input kept, recomputed"));
    for (const s of SAMPLE_REPORT_DATA.checkpoint) expect(rowOf(s.policy)).toEqual(layerStates(s));
  });
  it("bars are the schedules' predicted and measured bytes, at the step they were measured", () => {
    const bars = dataset(spec, "act-bytes");
    const s = SAMPLE_REPORT_DATA.checkpoint;
    const unit = byteUnit(Math.max(...s.flatMap((x) => [x.predictedActBytes, x.measuredActBytes ?? 0])));
    expect(bars).toHaveLength(s.length + s.filter((x) => x.measuredActBytes !== undefined).length);
    for (const x of s) {
      const of = (kind: string) => bars.find((b) => b.policy === x.policy && b.kind === kind)?.value;
      expect(of("predicted")).toBe(inUnit(x.predictedActBytes, unit));
      expect(of("measured")).toBe(
        x.measuredActBytes === undefined ? undefined : inUnit(x.measuredActBytes, unit),
      );
    }
    expect(JSON.stringify(spec)).toContain("batch 4 × 128 tokens");
  });
});

describe("serve panel", () => {
  it("draws one timeline per serve row when there are serve rows", () => {
    const c = chart(SAMPLE_REPORT_DATA, "serve");
    expect((c.spec!.vconcat as unknown[]).length).toBe(SAMPLE_REPORT_DATA.serve.length);
  });
  it("says how to get the serve rows when there are none", () => {
    const html = renderHtmlReport(SPARSE_REPORT_DATA);
    const fig = /<figure class="chart" data-chart="serve" data-empty="true">[\s\S]*?<\/figure>/.exec(
      html,
    )![0];
    expect(fig).toContain("<code>--workload serve</code>");
    expect(fig).toContain("<code>--workload all</code>");
  });
});

describe("configuration labels", () => {
  const long = SAMPLE_REPORT_DATA.rows.map((r) => r.config).filter((c) => c.length > MAX_LABEL);
  it("keeps short labels, abbreviates long ones uniquely within the limit", () => {
    expect(long).toHaveLength(2);
    const all = SAMPLE_REPORT_DATA.rows.map((r) => r.config);
    const l = configLabels(all);
    const shown = all.map(l.short);
    expect(new Set(shown).size).toBe(all.length);
    for (const s of shown) expect(s.length).toBeLessThanOrEqual(MAX_LABEL);
    for (const c of all) if (c.length <= MAX_LABEL) expect(l.short(c)).toBe(c);
    expect(l.keys.map((k) => k.full)).toEqual(long);
    // Abbreviations that would coincide are numbered.
    const clash = [`${"A".repeat(20)}m${"B".repeat(20)}`, `${"A".repeat(20)}n${"B".repeat(20)}`, "C"];
    const same = configLabels(clash);
    const s = clash.map(same.short);
    for (const x of s) expect(x.length).toBeLessThanOrEqual(MAX_LABEL);
    expect(s[1]).toMatch(/ #2$/);
  });
  it("charts show the short labels, never cut, and key each abbreviation to its full name", () => {
    const l = configLabels(SAMPLE_REPORT_DATA.rows.map((r) => r.config));
    const charts = buildCharts(SAMPLE_REPORT_DATA);
    const json = JSON.stringify(charts.map((c) => c.spec));
    for (const c of long) expect(json).not.toContain(c);
    expect(json).not.toMatch(/"labelLimit":(?!0)\d/);
    const mve = charts.find((c) => c.id === "measured-vs-estimated")!;
    expect(mve.keys).toEqual(long.map((full) => ({ short: l.short(full), full })));
    const html = renderHtmlReport(SAMPLE_REPORT_DATA);
    for (const full of long) expect(html).toContain(`<td>${full}</td>`);
  });
});
