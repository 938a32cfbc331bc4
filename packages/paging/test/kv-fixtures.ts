/**
 * Test fixtures (outside `src/`, never built or exported): a KV dtype that hides its f32 view so the
 * tiled decode path runs, and deterministic K/V content keyed by (token, position, layer, head, element).
 */
import { type KvDtypeExec, type Tensor, tensor } from "@tradeoffs/core-tensor";
import { f32Store } from "@tradeoffs/kv-cache";

/** f32 storage without the zero-copy view: readers must decode vector by vector. */
export const opaqueF32: KvDtypeExec = {
  dtype: "fp32-opaque",
  bytesPerElement: 4,
  scaleBytesPerVector: 0,
  allocate: (count, dim, category) => {
    const s = f32Store(count, dim, category);
    return {
      count: s.count,
      dim: s.dim,
      bytes: s.bytes,
      f32: undefined,
      write: (i, src, o) => s.write(i, src, o),
      read: (i, dst, o) => s.read(i, dst, o),
      dispose: () => s.dispose(),
    };
  },
};

/** The K (kv=0) or V (kv=1) element a "model" would write for token `tok` at `pos`. */
export function kvValue(tok: number, pos: number, layer: number, kv: number, h: number, d: number): number {
  return Math.fround(tok * 3 + pos * 0.25 + layer * 100 + kv * 50 + h * 10 + d * 0.125);
}

/** k or v [1, Hkv, T, D] for tokens at positions start.. */
export function kvFor(
  tokens: readonly number[],
  start: number,
  layer: number,
  kv: number,
  Hkv: number,
  D: number,
): Tensor {
  const T = tokens.length;
  const out = new Float32Array(Hkv * T * D);
  for (let h = 0; h < Hkv; h++)
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++) out[(h * T + t) * D + d] = kvValue(tokens[t]!, start + t, layer, kv, h, d);
  return tensor(out, [1, Hkv, T, D]);
}
