/**
 * What one token adds to the KV cache, group of layers by group of layers: K and V for each KV head
 * (or MLA's one compressed latent plus its shared RoPE key), and the window a group keeps (Mistral:
 * every layer; Gemma 2: every other layer; global layers keep every token). Not here: bytes per
 * element, scales and block reservation (the kv strategies' `KvCost`), or the sums (estimator.ts).
 */
import type { ArchSpec } from "@tradeoffs/core-tensor";

/** Layers that cache the same vectors per token and keep the same span of tokens. */
export interface KvGroup {
  /** Layers in the group. */
  readonly layers: number;
  /** Tokens each layer of the group keeps (a rolling buffer of the window); undefined: all. */
  readonly window: number | undefined;
  /** Vectors cached per token and layer: K and V per KV head (2·kvHeads), or MLA's one latent. */
  readonly vectors: number;
  /** Elements per vector: `headDim`, or MLA's kvLoraRank + ropeHeadDim. */
  readonly width: number;
}

/** Layers that attend within `window`: `windowLayers` (default all) when a window is set, else 0. */
export function windowedLayers(arch: ArchSpec): number {
  if (arch.window === undefined) return 0;
  return Math.min(arch.layers, arch.windowLayers ?? arch.layers);
}

/**
 * The cache's layer groups: global layers, then windowed ones (empty groups left out). MLA caches
 * one latent of kvLoraRank + ropeHeadDim per token and layer (DeepSeek-V2, section 2.1.2: K and V
 * are re-expanded from it per head), not K and V.
 */
export function kvGroups(arch: ArchSpec): KvGroup[] {
  const vectors = arch.mla ? 1 : 2 * arch.kvHeads;
  const width = arch.mla ? arch.mla.kvLoraRank + arch.mla.ropeHeadDim : arch.headDim;
  const windowed = windowedLayers(arch);
  const groups: KvGroup[] = [
    { layers: arch.layers - windowed, window: undefined, vectors, width },
    { layers: windowed, window: arch.window, vectors, width },
  ];
  return groups.filter((g) => g.layers > 0);
}

/** Tokens one layer of the group holds after `tokens` tokens of a sequence. */
export function cachedTokens(g: KvGroup, tokens: number): number {
  return Math.min(tokens, g.window ?? Number.POSITIVE_INFINITY);
}

/** Elements one token adds to the cache over all layers (no window applied). */
export function kvElementsPerToken(arch: ArchSpec): number {
  return kvGroups(arch).reduce((s, g) => s + g.layers * g.vectors * g.width, 0);
}

/**
 * K/V heads as tensor parallelism splits the cache: `kvHeads`, or 1 for MLA, whose latent is shared
 * by every head and so held whole on each device (as vLLM does for DeepSeek-V2).
 */
export function kvCacheHeads(arch: ArchSpec): number {
  return arch.mla ? 1 : arch.kvHeads;
}
