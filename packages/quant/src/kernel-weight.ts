/**
 * How a packed weight is handed to a backend's dequantising kernel (`Backend.matmulDequant`): the
 * bytes as they are, plus for the 4-bit codebook formats the codebook and the group scales, either f32
 * or double-quantised (NF4: the kernel decodes them; nothing is decoded per call here).
 * Not here: the kernels (core-tensor) or the choice of when to use them (packed-linear.ts).
 */
import type { DequantWeight, DoubleQuantScales } from "@tradeoffs/core-tensor";
import type { PackedWeight } from "./packed.js";

/** A weight in a kernel layout; `release()` frees anything made for it (nothing, for every format here). */
export interface KernelWeight {
  /** The packed bytes and scales as the backend's `matmulDequant` reads them. */
  readonly weight: DequantWeight;
  /** Frees anything made for this view (nothing, for every format here). */
  release(): void;
}

const nothing = (): void => {};
const NO_SCALES = new Float32Array(0);

/** A GGUF block format's bytes, read in place. */
export function ggufKernelWeight(format: "q8_0" | "q4_0", p: PackedWeight): KernelWeight {
  return { weight: { format, data: p.data }, release: nothing };
}

/** A 16-bit float weight's bytes (FP16: `f16`, BF16: `bf16`), read in place. */
export function sixteenBitKernelWeight(format: "f16" | "bf16", p: PackedWeight): KernelWeight {
  return { weight: { format, data: p.data }, release: nothing };
}

/**
 * A 4-bit codebook weight (INT4, NF4): codes in place, scales [rows, ⌈cols/group⌉] either `stored` f32
 * in place or double-quantised (`dq`: 8-bit codes, chunk scales and a mean, all in place).
 */
export function nibbleKernelWeight(
  p: PackedWeight,
  codebook: Float32Array,
  group: number,
  scales: { readonly stored: Float32Array } | { readonly dq: DoubleQuantScales },
): KernelWeight {
  const weight: DequantWeight =
    "stored" in scales
      ? { format: "nibble", data: p.data, codebook, group, scales: scales.stored }
      : { format: "nibble", data: p.data, codebook, group, scales: NO_SCALES, dq: scales.dq };
  return { weight, release: nothing };
}
