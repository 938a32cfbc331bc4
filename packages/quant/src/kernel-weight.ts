/**
 * How a packed weight is handed to a backend's dequantising kernel (`Backend.matmulDequant`): the
 * bytes as they are, plus for the 4-bit codebook formats the codebook and one f32 scale per group.
 * Not here: the kernels (core-tensor) or the choice of when to use them (packed-linear.ts).
 */
import { type DequantWeight, empty } from "@tradeoffs/core-tensor";
import type { RowScales } from "./nibbles.js";
import type { PackedWeight } from "./packed.js";

/** A weight in a kernel layout; `release()` frees what was decoded for it (second-level scales). */
export interface KernelWeight {
  readonly weight: DequantWeight;
  release(): void;
}

const nothing = (): void => {};

/** A GGUF block format's bytes, read in place. */
export function ggufKernelWeight(format: "q8_0" | "q4_0", p: PackedWeight): KernelWeight {
  return { weight: { format, data: p.data }, release: nothing };
}

/**
 * A 4-bit codebook weight (INT4, NF4): codes in place, scales [rows, G] either `stored` in place or,
 * when only `rowScales` can produce them (NF4's double quantisation), decoded into a `tmp` tensor
 * that `release()` frees.
 */
export function nibbleKernelWeight(
  p: PackedWeight,
  codebook: Float32Array,
  group: number,
  scales: { readonly stored: Float32Array } | { readonly rowScales: RowScales },
): KernelWeight {
  const G = Math.ceil(p.cols / group);
  if ("stored" in scales) {
    return {
      weight: { format: "nibble", data: p.data, codebook, group, scales: scales.stored },
      release: nothing,
    };
  }
  const decoded = empty([p.rows * G]); // (rows, G) f32 in tmp
  const d = decoded.data;
  for (let r = 0; r < p.rows; r++) scales.rowScales(r, d, r * G);
  return {
    weight: { format: "nibble", data: p.data, codebook, group, scales: d },
    release: () => decoded.dispose(),
  };
}
