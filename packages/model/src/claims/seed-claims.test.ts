/** The claims added from the seed (14–23) and the side-by-side sizes of row 10: deterministic verdicts. */
import { describe, expect, it } from "vitest";
import { estimate } from "../estimator.js";
import { getPreset } from "../presets.js";
import { parse } from "../registry.js";
import { checkClaims } from "./check.js";
import { flashTile, maxSeqWithin, pagedOptimalBlock } from "./context.js";
import { GQA_PAPER, relativeLoss } from "./gqa-quality.js";
import {
  formatSize,
  llamaMatrices,
  llamaNormWeights,
  QLORA_PAPER_SETUP,
  SIZE_FORMATS,
} from "./model-sizes.js";
import { GPT4_RUMOUR, LLAMA_65B } from "./scale.js";
import { modelTables } from "./tables.js";
import { GB, infer } from "./verdict.js";

const byId = new Map(checkClaims({ measure: false }).map((c) => [c.id, c]));
const claim = (id: number) => {
  const c = byId.get(id);
  if (!c) throw new Error(`no claim ${id}`);
  return c;
};

describe("row 10: model sizes side by side", () => {
  it("lists every weight of the Llama-2 models (the published exact parameter counts)", () => {
    for (const m of ["llama2-7b", "llama2-13b", "llama2-70b"]) {
      const p = getPreset(m);
      const n = llamaMatrices(p.arch).reduce((s, [o, i]) => s + o * i, 0) + llamaNormWeights(p.arch);
      expect(n).toBe(p.published?.params);
    }
  });

  it("prices each format by its strategy: all-FP32 is 4 B per parameter, the rest at their exact bits", () => {
    const bits = Object.fromEntries(SIZE_FORMATS.map((f) => [f.name, formatSize("llama2-7b", f)]));
    expect(bits["FP32 (all)"]?.bytes).toBe(6_738_415_616 * 4);
    expect(bits.FP16?.bitsPerWeight).toBe(16);
    expect(bits.Q8_0?.bitsPerWeight).toBeCloseTo(8.5, 2);
    expect(bits.Q4_0?.bitsPerWeight).toBeCloseTo(4.5, 2);
    expect(bits["INT4 g128 (f32 scales)"]?.bitsPerWeight).toBeCloseTo(4.25, 2);
    expect(bits["NF4+DQ"]?.bitsPerWeight).toBeCloseTo(4.127, 2);
    expect(claim(10).value).toMatch(/Llama-2-7B GB: FP32 \(all\) 26\.95, FP16 13\.48/);
    expect(claim(10).verdict).toBe("holds");
    expect(claim(10).how).toContain(QLORA_PAPER_SETUP);
  });
});

describe("context claims", () => {
  it("GPT-3's 2K: attention memory is a small share at 2K, so the claim is wrong", () => {
    expect(claim(14).verdict).toBe("wrong");
    expect(claim(14).value).toMatch(/\(0\.5%\)/);
  });

  it("maxSeqWithin returns the largest fitting seq", () => {
    const n = maxSeqWithin("llama2-7b", "Flash", 20 * GB);
    const total = (s: number) => estimate("llama2-7b", parse("Flash"), infer(s)).totalBytes;
    expect(total(n)).toBeLessThanOrEqual(20 * GB);
    expect(total(n + 1)).toBeGreaterThan(20 * GB);
    expect(maxSeqWithin("llama2-7b", "Flash", 1 * GB)).toBe(0);
  });

  it("Flash gives ~5× longer sequences on these budgets, not 10×", () => {
    expect(claim(17).verdict).toBe("wrong");
    expect(claim(17).value).toMatch(/20724 → 108183 tokens \(5\.2×/);
  });

  it("√ block rules: Flash's tile ignores n; the paged optimum grows as √n but batch does not enter", () => {
    expect(flashTile(96 * 1024, 128)).toEqual({ rows: 128, cols: 192 });
    expect(pagedOptimalBlock(4 * 4096, 1) / pagedOptimalBlock(4096, 1)).toBeCloseTo(2, 12);
    expect(pagedOptimalBlock(4096, 1, 64)).toBeCloseTo(pagedOptimalBlock(4096, 1, 1), 12);
    expect(claim(22).verdict).toBe("misleading");
  });

  it("systems we cannot run are unverifiable and say what is unknown", () => {
    for (const id of [15, 16]) {
      expect(claim(id).verdict).toBe("unverifiable");
      expect(claim(id).value).toMatch(/unknown:/);
    }
  });
});

describe("scale claims", () => {
  it("LLaMA-65B's architecture gives its published 65.2B", () => {
    const e = estimate(LLAMA_65B, parse("FP16"), infer(1));
    expect(Math.abs(e.params.total - 65.2e9) / 65.2e9).toBeLessThan(0.005);
  });

  it("QLoRA 65B on 48 GB holds with the paper's setup, and says which setup", () => {
    expect(claim(18).verdict).toBe("holds");
    expect(claim(18).how).toContain(QLORA_PAPER_SETUP);
    expect(claim(18).how).toMatch(/8-bit/);
  });

  it("4-bit gives at most ~8× fp32's parameters, so 10× is wrong", () => {
    expect(claim(19).verdict).toBe("wrong");
    expect(claim(19).value).toMatch(/7\.98× .* 3\.99×/);
  });

  it("the GPT-4 1.8T MoE figure is a rumour with its source and what would follow", () => {
    expect(claim(20).verdict).toBe("unverifiable");
    expect(claim(20).claim).toMatch(/rumour/);
    expect(claim(20).how).toContain(GPT4_RUMOUR.source);
    expect(claim(20).value).toMatch(/45 × 80 GB GPUs/);
  });

  it("Williams' √t: checkpointing's √L holds, memory = √compute does not", () => {
    expect(claim(21).verdict).toBe("misleading");
  });

  it("GQA quality: the paper's own figure is under 1%", () => {
    expect(relativeLoss(GQA_PAPER.mha, GQA_PAPER.gqa, true)).toBeCloseTo(0.1 / 47.2, 12);
    expect(relativeLoss(2, 2.02, false)).toBeCloseTo(0.01, 12);
    expect(claim(23).value).toMatch(/paper: 0\.21%/);
  });
});

describe("published-model tables", () => {
  const tables = modelTables();

  it("gives GPT-3, GPT-4 and Llama-2, every row with a status and a source", () => {
    expect(tables.map((t) => t.name)).toEqual(["gpt3", "gpt4", "llama2"]);
    for (const t of tables)
      for (const r of t.rows) {
        expect(r).toHaveLength(t.headers.length);
        expect(r[2]).toMatch(/^(published|computed|RUMOUR|unpublished)$/);
        expect(r[3]?.length).toBeGreaterThan(0);
      }
  });

  it("marks every GPT-4 size figure as a rumour with its source", () => {
    const gpt4 = tables[1]!;
    const params = gpt4.rows.find((r) => r[0] === "parameters");
    expect(params?.[2]).toBe("RUMOUR");
    expect(params?.[3]).toContain("SemiAnalysis");
    expect(params?.[1]).toBe("1.80T");
  });

  it("Llama-2 weights show the formats side by side with all-FP32 at 4 B per parameter", () => {
    const row = tables[2]!.rows.find((r) => r[0] === "Llama-2-7B: weights");
    expect(row?.[1]).toMatch(
      /^FP32 \(all\) 26\.95 GB, FP16 13\.48 GB, INT8 per-channel 6\.74 GB, Q8_0 7\.16 GB/,
    );
  });
});
