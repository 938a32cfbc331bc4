/**
 * A preset's deterministic random initialisation as a weight map, made once per (preset, seed) and
 * shared: every configuration measured on an untrained preset (`medium`) starts from the same
 * weights — converted where its layout differs, as trained weights are — and the seconds of drawing
 * 85M normals are paid once per process instead of once per run.
 */
import { clone, MemoryLedger, type Tensor, withLedger } from "@tradeoffs/core-tensor";
import { getPreset, type PresetName } from "./presets.js";
import { parse } from "./registry.js";
import { Transformer } from "./transformer.js";
import type { WeightMap } from "./weight-names.js";

const cache = new Map<string, WeightMap>();

/** The ledger that holds cached initialisations (outside any measured run's ledger). */
export const initLedger = new MemoryLedger({ name: "initial weights" });

/**
 * The weights `Transformer.create(model, Baseline, { seed })` draws, by Hugging Face name (f32,
 * cached; do not dispose them). Pass them as `weights` to build any configuration from them.
 */
export function initialWeights(model: PresetName, seed = 0): WeightMap {
  const key = `${getPreset(model).arch.name}:${seed}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const map = withLedger(initLedger, () => {
    const m = Transformer.create(model, parse("JS"), { seed });
    try {
      const out = new Map<string, Tensor>();
      for (const [name, t] of m.namedTensors()) out.set(name, clone(t, { category: "weights/init" }));
      return out;
    } finally {
      m.dispose();
    }
  });
  cache.set(key, map);
  return map;
}

/** Free every cached initialisation. */
export function clearInitialWeights(): void {
  for (const map of cache.values()) for (const t of map.values()) t.dispose();
  cache.clear();
}
