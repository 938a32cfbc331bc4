/**
 * A packed (quantised or 16-bit) weight W [out, in] and the `WeightFormat` contract every format
 * implements: quantize / dequantize, row decoding, and a fused GEMV. Storage goes through the ledger.
 * Not here: the matmul with autograd (packed-linear.ts) or any one format's arithmetic.
 */
import {
  DEQUANT_TILE_ELEMENTS,
  empty,
  f16ToF32,
  getLedger,
  type Plan,
  ShapeError,
  type Storage,
  type Tensor,
  ValueError,
  type WeightsCost,
} from "@tradeoffs/core-tensor";
import type { KernelWeight } from "./kernel-weight.js";
import { cachedPacking, copyPacking, packCacheActive, remember, sourceHash } from "./pack-cache.js";
import { TILE_ELEMENTS } from "./packed-linear.js";

/** Sizes of the parts of a packed weight, in elements of their storage type. */
export interface PackedLayout {
  /** Raw bytes (`u8`): values, and for the GGUF formats the block scales too. */
  readonly dataBytes: number;
  /** f32 scales (per row, group, block or second-level chunk). */
  readonly scales: number;
  /** Secondary bytes (`u8`), e.g. NF4's 8-bit quantised block absmaxes. */
  readonly extraBytes: number;
}

/**
 * A weight [rows = out, cols = in] in some format. `data` holds the raw bytes (for Q8_0/Q4_0 exactly
 * GGUF's blocks, row by row); `scales` and `extra` hold what the format needs besides. Every part is a
 * ledger allocation under `category`, so `bytes` is what the ledger sees.
 */
export class PackedWeight {
  /** The format's name. */
  readonly format: string;
  /** [rows, cols] = [out, in]. */
  readonly shape: readonly [number, number];
  /** Rows (output features). */
  readonly rows: number;
  /** Columns (input features). */
  readonly cols: number;
  /** Ledger category the bytes are charged to. */
  readonly category: string;
  #parts: Storage[];
  readonly #data: Storage;
  readonly #scales: Storage | null;
  readonly #extra: Storage | null;

  constructor(format: string, rows: number, cols: number, layout: PackedLayout, category: string) {
    this.format = format;
    this.rows = rows;
    this.cols = cols;
    this.shape = Object.freeze([rows, cols]) as readonly [number, number];
    this.category = category;
    const ledger = getLedger();
    this.#data = ledger.allocate(category, "u8", layout.dataBytes);
    this.#parts = [this.#data];
    try {
      this.#scales = layout.scales > 0 ? ledger.allocate(category, "f32", layout.scales) : null;
      if (this.#scales) this.#parts.push(this.#scales);
      this.#extra = layout.extraBytes > 0 ? ledger.allocate(category, "u8", layout.extraBytes) : null;
      if (this.#extra) this.#parts.push(this.#extra);
    } catch (e) {
      for (const p of this.#parts) p.release();
      throw e;
    }
  }

  /** Raw bytes. */
  get data(): Uint8Array {
    return this.#data.data as Uint8Array;
  }
  /** f32 scales (empty when the format keeps none outside `data`). */
  get scales(): Float32Array {
    return (this.#scales?.data as Float32Array | undefined) ?? EMPTY_F32;
  }
  /** Secondary bytes (empty when unused). */
  get extra(): Uint8Array {
    return (this.#extra?.data as Uint8Array | undefined) ?? EMPTY_U8;
  }
  /** Bytes held in the ledger: data + scales + extra. */
  get bytes(): number {
    let b = 0;
    for (const p of this.#parts) b += p.bytes;
    return b;
  }
  /** True once the storage has been released. */
  get disposed(): boolean {
    return this.#data.disposed;
  }
  /** Releases the data, scales and extra storage (idempotent). */
  dispose(): void {
    for (const p of this.#parts) p.release();
    this.#parts = [];
  }
}

const EMPTY_F32 = new Float32Array(0);
const EMPTY_U8 = new Uint8Array(0);

/** One storage format for linear-layer weights. */
export interface WeightFormat {
  /** Canonical name with options, e.g. `INT8[group=0]`. */
  readonly name: string;
  /**
   * Storage bits per weight including scales and second-level constants, for a matrix whose input
   * width is a multiple of every block (per-channel formats: at 4096 inputs; see `bitsFor`).
   */
  readonly bitsPerWeight: number;
  /** Exact bits per weight for a [rows, cols] matrix. */
  bitsFor(rows: number, cols: number): number;
  /** Exact packed bytes (data + scales + extra) of a [rows, cols] matrix. */
  bytesFor(rows: number, cols: number): number;
  /** Pack an f32 [out, in] tensor (NaN/Inf rejected with the position); charged to `category`. */
  quantize(t: Tensor, category?: string): PackedWeight;
  /** The weight as a new f32 [out, in] tensor (default category `tmp`). */
  dequantize(p: PackedWeight, category?: string): Tensor;
  /** Decode rows [r0, r1) into `out` (row-major, (r1 − r0)·cols floats). */
  decodeRows(p: PackedWeight, r0: number, r1: number, out: Float32Array): void;
  /** y[yOff + j] = Σ_k x[xOff + k]·W[j, k] for every row j: the fused decode GEMV (M = 1). */
  gemv(p: PackedWeight, x: Float32Array, xOff: number, y: Float32Array, yOff: number): void;
  /** The weight in a layout a backend's `matmulDequant` reads, when the format has one. */
  kernelWeight?(p: PackedWeight): KernelWeight;
}

/** The parts of a format; `makeFormat` adds the shared checks and the generic dequantize. */
export interface FormatSpec {
  /** Canonical name with options, as `WeightFormat.name`. */
  readonly name: string;
  /** Storage bits per weight, as `WeightFormat.bitsPerWeight`. */
  readonly bitsPerWeight: number;
  /** The storage a [rows, cols] weight needs in this format. */
  layout(rows: number, cols: number): PackedLayout;
  /** Validate the shape (block multiples); throw a ShapeError naming what would be valid. */
  checkShape?(rows: number, cols: number): void;
  /** Fill `p` from the f32 weight `w` ([rows, cols] row-major, all finite). */
  encode(w: Float32Array, p: PackedWeight): void;
  /** Decode rows [r0, r1) into `out` (row-major, (r1 − r0)·cols floats). */
  decodeRows(p: PackedWeight, r0: number, r1: number, out: Float32Array): void;
  /** y[yOff + j] = Σ_k x[xOff + k]·W[j, k] for every row j (the fused decode GEMV). */
  gemv(p: PackedWeight, x: Float32Array, xOff: number, y: Float32Array, yOff: number): void;
  /** The weight in a layout a backend's `matmulDequant` reads, when the format has one. */
  kernelWeight?(p: PackedWeight): KernelWeight;
}

/** Build a `WeightFormat` from its parts. */
export function makeFormat(spec: FormatSpec): WeightFormat {
  const bytesOf = (rows: number, cols: number) => {
    const l = spec.layout(rows, cols);
    return l.dataBytes + 4 * l.scales + l.extraBytes;
  };
  return Object.freeze({
    name: spec.name,
    bitsPerWeight: spec.bitsPerWeight,
    bitsFor: (rows: number, cols: number) => (8 * bytesOf(rows, cols)) / (rows * cols),
    bytesFor: bytesOf,
    quantize(t: Tensor, category = "weights"): PackedWeight {
      if (t.rank !== 2 || t.dtype !== "f32") {
        throw new ShapeError(
          `${spec.name}.quantize`,
          `needs an f32 weight [out, in], got ${t.describe()}; reshape to 2-D f32 first`,
          { shape: t.shape, dtype: t.dtype },
        );
      }
      const [rows, cols] = t.shape as [number, number];
      spec.checkShape?.(rows, cols);
      const w = t.data;
      // Inside withPackCache, a source packed before (same storage, offset and contents) is copied.
      const reuse = packCacheActive();
      const src = { base: t.storage.data, offset: t.offset };
      const hash = reuse ? sourceHash(w) : 0;
      const hit = reuse ? cachedPacking(src, spec.name, rows, cols, hash) : undefined;
      if (!hit) checkFinite(spec.name, w, cols);
      const p = new PackedWeight(spec.name, rows, cols, spec.layout(rows, cols), category);
      try {
        if (hit) copyPacking(hit, p);
        else {
          spec.encode(w, p);
          if (reuse) remember(src, p, hash);
        }
      } catch (e) {
        p.dispose();
        throw e;
      }
      return p;
    },
    dequantize(p: PackedWeight, category = "tmp"): Tensor {
      const out = empty([p.rows, p.cols], { category });
      spec.decodeRows(p, 0, p.rows, out.data);
      return out;
    },
    decodeRows: spec.decodeRows,
    gemv: spec.gemv,
    ...(spec.kernelWeight ? { kernelWeight: spec.kernelWeight } : {}),
  });
}

/** Throw a ValueError naming the first NaN/Inf by (row, column). */
export function checkFinite(format: string, w: Float32Array, cols: number): void {
  for (let i = 0; i < w.length; i++) {
    const v = w[i]!;
    if (v - v !== 0) {
      const row = Math.floor(i / cols);
      const col = i - row * cols;
      throw new ValueError(
        `${format}.quantize: weight[${row}, ${col}] is ${v}; only finite values can be quantised (fix or mask the weight first)`,
        { format, row, col, value: v },
      );
    }
  }
}

let f16Table: Float32Array | null = null;

/**
 * Every IEEE half bit pattern decoded to f32: a fixed 256 KiB lookup table shared by all weights
 * (a constant of the process, not model state), built on first use.
 */
export function f16Lut(): Float32Array {
  if (f16Table === null) {
    const t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = f16ToF32(h);
    f16Table = t;
  }
  return f16Table;
}

/** max |w[k]| over k ∈ [k0, k1) (0 for an empty range). */
export function absmax(w: Float32Array, k0: number, k1: number): number {
  let m = 0;
  for (let k = k0; k < k1; k++) m = Math.max(m, Math.abs(w[k]!));
  return m;
}

// x widened to f64 once per GEMV, shared by every format's kernel (one row of scratch, reused; grown
// on demand, never model state): the dot products then multiply codes by f64 with no f32→f64
// conversion per weight.
let xWide = new Float64Array(0);

/** x[xOff .. xOff + n) widened to f64 in shared scratch, valid until the next call. */
export function widenX(x: Float32Array, xOff: number, n: number): Float64Array {
  if (xWide.length < n) xWide = new Float64Array(n);
  const xs = xWide;
  for (let k = 0; k < n; k++) xs[k] = x[xOff + k]!;
  return xs;
}

/** Groups of `group` inputs per row (0 = one group per row); the last group may be shorter. */
export function groupsPerRow(cols: number, group: number): number {
  return group === 0 ? 1 : Math.ceil(cols / group);
}

/**
 * The weights cost of a packed format: exact bytes per matrix from its codec, frozen (no gradient),
 * and one dequantised tile of workspace per product (`PackedLinear` decodes ≤ TILE_ELEMENTS at a time,
 * the WASM backend ≤ DEQUANT_TILE_ELEMENTS in its own memory: the larger bounds both).
 */
export function planWeights(p: Plan, format: string, bitsPerWeight: number, codec: WeightFormat): Plan {
  const weights: WeightsCost = Object.freeze({
    format,
    bitsPerWeight,
    bytesFor: codec.bytesFor,
    trainable: false,
    workspaceElements: (out: number, inp: number) =>
      Math.min(Math.max(TILE_ELEMENTS, DEQUANT_TILE_ELEMENTS), out * inp),
    workspaceNote:
      "tmp with packed weights: one dequantised tile (≤ 64Ki weights; ≤ 256Ki decoded by the WASM backend) beside the working set",
  });
  return { ...p, weights };
}
