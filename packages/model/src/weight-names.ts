/**
 * Where a model's weights are found by name: Hugging Face Llama tensor names
 * (`model.layers.0.self_attn.q_proj.weight`), and the default conversion of stored weights whose
 * shape differs from what a configuration needs (MHA K/V heads mean-pooled into fewer), and a
 * model's weights collected under those names for saving.
 */
import type { ArchSpec, LinearWeight, Tensor } from "@tradeoffs/core-tensor";
import { meanPoolKvHeads } from "@tradeoffs/kv-cache";
import type { Layer } from "./layer.js";

/** Initial or trained weights by Hugging Face Llama names (`model.layers.0.self_attn.q_proj.weight`). */
export type WeightMap = ReadonlyMap<string, Tensor>;

/**
 * The K/V heads a stored K or V projection holds when it can be pooled into `arch.kvHeads` (a
 * multiple of them, same input width); null for any other weight.
 */
export function storedKvHeads(
  name: string,
  stored: Tensor,
  shape: readonly [number, number],
  arch: ArchSpec,
): number | null {
  if (!/self_attn\.[kv]_proj\.weight$/.test(name) || stored.dim(1) !== shape[1]) return null;
  const fromHeads = stored.dim(0) / arch.headDim;
  return Number.isInteger(fromHeads) && fromHeads % arch.kvHeads === 0 ? fromHeads : null;
}

/** The default conversion: MHA K/V projection rows mean-pooled into fewer K/V heads. */
export function convertKvHeads(
  name: string,
  stored: Tensor,
  shape: readonly [number, number],
  arch: ArchSpec,
): Tensor | null {
  const fromHeads = storedKvHeads(name, stored, shape, arch);
  return fromHeads === null ? null : meanPoolKvHeads(stored, fromHeads, arch.kvHeads, arch.headDim);
}

/** Hugging Face Llama names of every weight, by part and layer. */
export const weightName = {
  embed: "model.embed_tokens.weight",
  norm: "model.norm.weight",
  head: "lm_head.weight",
  attnNorm: (i: number) => `model.layers.${i}.input_layernorm.weight`,
  ffnNorm: (i: number) => `model.layers.${i}.post_attention_layernorm.weight`,
  attn: (i: number, p: "q" | "k" | "v" | "o") => `model.layers.${i}.self_attn.${p}_proj.weight`,
  ffn: (i: number, name: string) => {
    const m = /^(?:(.*)\.)?(gate|up|down)$/.exec(name);
    return m
      ? `model.layers.${i}.mlp.${m[1] ? `${m[1]}.` : ""}${m[2]}_proj.weight`
      : `model.layers.${i}.mlp.${name}.weight`;
  },
};

/** The parts of a model that hold weights. */
export interface WeightHolder {
  readonly embed: Tensor;
  readonly norm: Tensor;
  readonly head: Tensor | null;
  readonly layers: readonly Layer[];
}

/**
 * Every weight by its Hugging Face name as f32 for saving: the model's own tensors where a weight
 * is stored f32 (do not dispose those), dequantised copies in `tmp` otherwise.
 */
export function namedWeights(model: WeightHolder): Map<string, Tensor> {
  const out = new Map<string, Tensor>([
    [weightName.embed, model.embed],
    [weightName.norm, model.norm],
  ]);
  if (model.head) out.set(weightName.head, model.head);
  const f32 = (w: LinearWeight | Tensor) => ("apply" in w ? (w.f32Weight() ?? w.dequantize()) : w);
  model.layers.forEach((l, i) => {
    out.set(weightName.attnNorm(i), l.attnNorm);
    out.set(weightName.ffnNorm(i), l.ffnNorm);
    for (const p of ["q", "k", "v", "o"] as const) out.set(weightName.attn(i, p), f32(l[p]));
    for (const [name, w] of l.ffn.namedWeights()) out.set(weightName.ffn(i, name), f32(w));
  });
  return out;
}
