/**
 * MHA → GQA/MQA checkpoint conversion: mean-pool the K (or V) projection heads of each group into
 * one K/V head, as in the GQA paper (Ainslie et al. 2023, §2.1, "mean pooling"). A pure weight
 * transform; uptraining the converted model is the model package's business.
 */
import { DTypeError, empty, ShapeError, type Tensor, ValueError } from "@tradeoffs/core-tensor";
import { kvHeadsProblems } from "./heads-rules.js";

/** Options of `meanPoolKvHeads`. */
export interface MeanPoolOptions {
  /** Ledger category of the result; default `weights/attn`. */
  readonly category?: string;
}

/**
 * Mean-pool K or V projection weights f32 [heads·headDim, dModel] (head h in rows h·D .. h·D+D−1)
 * into [kvHeads·headDim, dModel]: K/V head j = mean of query-group heads j·g .. j·g+g−1, g = heads/kvHeads.
 * Returns a new tensor; `w` is untouched. kvHeads = heads returns an equal copy; identical heads
 * within a group come back unchanged (the mean is accumulated in f64).
 */
export function meanPoolKvHeads(
  w: Tensor,
  heads: number,
  kvHeads: number,
  headDim: number,
  options: MeanPoolOptions = {},
): Tensor {
  const op = "meanPoolKvHeads";
  if (w.dtype !== "f32") {
    throw new DTypeError(`${op}: weights must be f32, got ${w.dtype}; convert with toF32() first`, {
      dtype: w.dtype,
    });
  }
  if (!(Number.isInteger(heads) && heads >= 1)) {
    throw new ValueError(`${op}: heads must be a positive integer, got ${heads}`, { heads });
  }
  if (!(Number.isInteger(headDim) && headDim >= 1)) {
    throw new ValueError(`${op}: headDim must be a positive integer, got ${headDim}`, { headDim });
  }
  const problems = kvHeadsProblems(op, kvHeads, heads);
  if (problems.length) throw new ValueError(problems[0]!, { heads, kvHeads });
  if (w.rank !== 2 || w.shape[0] !== heads * headDim) {
    throw new ShapeError(
      op,
      `weights must be [heads·headDim, dModel] = [${heads * headDim}, dModel] (rows grouped by head), got [${w.shape}]`,
      { shape: w.shape, heads, headDim },
    );
  }
  const dModel = w.shape[1]!;
  const g = heads / kvHeads;
  const rowLen = headDim * dModel; // one head's block of rows
  const src = w.data; // [heads, headDim, dModel]
  const out = empty([kvHeads * headDim, dModel], { category: options.category ?? "weights/attn" });
  const dst = out.data; // [kvHeads, headDim, dModel]
  const acc = new Float64Array(rowLen); // one head's block: small scratch, freed with this call
  for (let j = 0; j < kvHeads; j++) {
    acc.fill(0);
    for (let h = j * g; h < (j + 1) * g; h++) {
      const base = h * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i]! += src[base + i]!;
    }
    const obase = j * rowLen;
    for (let i = 0; i < rowLen; i++) dst[obase + i] = acc[i]! / g;
  }
  return out;
}

/**
 * A heads strategy's `convertKv`: mean-pool stored K/V heads into the layout's count for a model of
 * `heads` query heads (`kvHeadsFor`, the same number the strategy's `plan()` sets).
 */
export function poolKvTo(kvHeadsFor: (heads: number) => number) {
  return (w: Tensor, fromHeads: number, heads: number, headDim: number): Tensor =>
    meanPoolKvHeads(w, fromHeads, kvHeadsFor(heads), headDim);
}
