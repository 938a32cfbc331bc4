/**
 * `PackedLinear`: a frozen `LinearWeight` over a `PackedWeight`. y = x·Wᵀ dequantises on the fly:
 * decode (M ≤ GEMV_MAX_ROWS) runs the format's fused JS GEMV with no scratch, or (`backendGemv`, by
 * default for resident weights) the backend's dequantising kernel, which also takes short prefills
 * (M ≤ KERNEL_MAX_ROWS; FP32x8 any M, in chunks of that many rows). Larger M decodes W a tile of rows
 * at a time for a GEMM: inside the backend when it can (`matmulDequantTiles`: WASM decodes and
 * multiplies in its own memory), else into a bounded `tmp` tensor here for the backend's GEMM. Never a
 * full f32 copy of W.
 * Differentiable in x only (dX = dY·W, decoded the same way); the packed weight gets no gradient.
 * On a backend with resident memory (WASM) the packed bytes are placed there when packed
 * (`withResidentWeights`: same bytes, same category), so its kernels read them with no per-call copy.
 */
import {
  type Backend,
  type DequantWeight,
  empty,
  getBackend,
  type LinearWeight,
  matmulArgs,
  record,
  ShapeError,
  type Tensor,
  type WeightsExec,
  withResidentWeights,
} from "@tradeoffs/core-tensor";
import type { KernelWeight } from "./kernel-weight.js";
import type { PackedWeight, WeightFormat } from "./packed.js";

/** How a `PackedLinear` runs its products. */
export interface PackedLinearOptions {
  /** The backend whose kernels run the products; default: the active backend at each call. */
  readonly backend?: Backend | undefined;
  /**
   * Products of M ≤ KERNEL_MAX_ROWS rows through the backend's `matmulDequant` when it has one and the
   * format has a kernel layout (Q8_0, Q4_0, INT8, INT4, NF4, FP16, BF16, FP32x8), and larger ones through
   * its `matmulDequantTiles` when it decodes the format. Default (undefined): for weights placed
   * resident in the backend's memory at pack time; the kernel for the layouts with a fused GEMV,
   * measured faster than the JS GEMV by `pnpm bench decode` (INT4 / NF4 only when K and the group are
   * multiples of 32; for M > GEMV_MAX_ROWS every layout except FP16 / BF16, which use it up to M = 16).
   * false: the JS GEMV, and tiles decoded here for the backend's GEMM; true: the backend kernel for
   * every kernel layout up to KERNEL_MAX_ROWS. FP32x8 takes its kernel at every M.
   */
  readonly backendGemv?: boolean | undefined;
}

/**
 * Whether a resident weight uses the backend's dequantising kernel by default: the layouts with fused
 * WASM GEMV kernels, measured faster than the JS GEMV (`pnpm bench decode`): Q8_0, Q4_0, INT8, FP16,
 * BF16, and the 4-bit codebook layout (INT4, NF4) when K and the group are multiples of 32.
 */
function autoKernel(w: DequantWeight, K: number): boolean {
  return w.format !== "nibble" || (K % 32 === 0 && w.group % 32 === 0);
}

/**
 * Whether apply() sends its M rows of x to the backend's kernel (in chunks of KERNEL_MAX_ROWS) rather
 * than the JS GEMV or decoded tiles + GEMM, given the kernel is available and `backendGemv` is on. Up
 * to KERNEL_MAX_ROWS: always when forced (`true`), else (`auto`) FP16 / BF16 up to
 * SIXTEEN_BIT_KERNEL_MAX_ROWS and the other layouts past GEMV_MAX_ROWS or when their fused GEMV
 * applies (`autoKernel`). Past it only FP32x8 (nothing to decode; its kernel runs at about the GEMM's
 * speed): the others decode tiles in the backend, which beats the kernel in chunks from about 96 rows.
 * Measured 2026-11-28 (WASM, 2816×1024, medians of 15, interleaved), ms at M = 64 / 128 / 256 / 512,
 * kernel (chunks past 64) → backend tiles: Q8_0 10.9 / 27.2 / 41.4 / 72.6 → 12.1 / 25.4 / 32.6 / 50.9;
 * Q4_0 10.2 / 21.9 / 41.5 / 83.1 → 12.0 / 18.9 / 32.8 / 65.2; NF4 11.4 / 23.4 / 46.5 / 92.6 →
 * 13.0 / 20.4 / 35.7 / 65.1. FP32x8, ms at M = 32 / 64, 1024×1024: kernel 1.34 / 2.62, FP32's GEMM
 * 1.51 / 2.44, tiles 4.93 / 6.85.
 */
function kernelTakes(w: DequantWeight, K: number, M: number, backendGemv: true | "auto"): boolean {
  if (M > KERNEL_MAX_ROWS) return w.format === "f32x8";
  if (backendGemv === true) return true;
  if (w.format === "f16" || w.format === "bf16") return M <= SIXTEEN_BIT_KERNEL_MAX_ROWS;
  return M > GEMV_MAX_ROWS || autoKernel(w, K);
}

/**
 * Rows of x up to which apply() runs the backend's dequantising kernel (when used: `backendGemv`)
 * in one call instead of decoding tiles for a GEMM: short prefills. `pnpm bench decode` measures it
 * 2–2.6× faster than tile + GEMM at M = 32 (768×3072). Past it only FP32x8 takes the kernel, in chunks
 * of this many rows (`kernelTakes`).
 */
export const KERNEL_MAX_ROWS = 64;

/**
 * The 16-bit float layouts (FP16, BF16) have only a GEMV kernel, which decodes W again for every row
 * of x: by default it takes M ≤ 16, larger M decodes tiles for the GEMM (FP32x8, with nothing to
 * decode, takes its kernel at every M). Measured 2026-11-28 on the WASM backend, 2816×1024, ms,
 * kernel vs tiles decoded in the backend: FP16 1.54 vs 3.20 at M = 8, 2.94 vs 3.88 at M = 16; BF16
 * 0.91 vs 2.58 and 1.72 vs 3.25; at M = 32 the two are level (5.4, 6.1).
 */
const SIXTEEN_BIT_KERNEL_MAX_ROWS = 16;

/** Rows of x up to which apply() calls the fused GEMV once per row instead of decoding tiles. */
export const GEMV_MAX_ROWS = 4;
/** f32 elements of one tile of W decoded here (256 KiB): the bound on apply()'s decode scratch. */
export const TILE_ELEMENTS = 1 << 16;

/** Rows of W per decoded tile for an input width `cols`. */
export function tileRows(rows: number, cols: number): number {
  return Math.max(1, Math.min(rows, Math.floor(TILE_ELEMENTS / Math.max(1, cols))));
}

/**
 * A frozen linear weight stored in a packed format (INT8, INT4, NF4, Q8_0, Q4_0, FP16, BF16): products
 * dequantise tiles on the fly, or run the backend's dequantising kernel when it has one.
 */
export class PackedLinear implements LinearWeight {
  /** The format's name as reports print it (`INT8[group=0]`, `Q4_0`, …). */
  readonly format: string;
  /** Input width. */
  readonly inFeatures: number;
  /** Output width. */
  readonly outFeatures: number;
  /** The packed bytes and scales. */
  readonly packed: PackedWeight;
  /** The format that packed them (and decodes them). */
  readonly codec: WeightFormat;
  /** The options the layer was built with. */
  readonly options: PackedLinearOptions;
  /** Whether the packed bytes live in the (pack-time) backend's own memory. */
  readonly resident: boolean;
  /**
   * The packed bytes as the backend's kernel reads them, made on first use and kept (every format's
   * view is in place, nothing copied): the same object every call lets the backend reuse the call's
   * layout (core-tensor's resident GEMV path), which matters for decode's µs-sized calls.
   */
  #kernel: KernelWeight | undefined;

  /**
   * Quantise `w` [out, in] with `codec` under `category` (the caller keeps `w`), resident in the
   * backend's memory when it has any (`options.backend`, else the active backend).
   */
  constructor(codec: WeightFormat, w: Tensor, category: string, options: PackedLinearOptions = {}) {
    this.codec = codec;
    this.options = Object.freeze({ ...options });
    const backend = options.backend ?? getBackend();
    this.packed = withResidentWeights(backend, () => codec.quantize(w, category));
    this.resident = backend.allocateResident !== undefined;
    this.format = codec.name;
    this.outFeatures = this.packed.rows;
    this.inFeatures = this.packed.cols;
  }

  /** Bytes held in the ledger (data + scales). */
  get bytes(): number {
    return this.packed.bytes;
  }

  /** x [..., in] → [..., out]. */
  apply(x: Tensor): Tensor {
    const K = this.inFeatures;
    const N = this.outFeatures;
    if (x.rank < 1 || x.dim(-1) !== K) {
      throw new ShapeError(`${this.format}.apply`, `x must be [..., ${K}], got [${x.shape}]`, {
        x: x.shape,
        inFeatures: K,
      });
    }
    const M = x.size / K;
    const y = empty([...x.shape.slice(0, -1), N]);
    const backend = this.options.backend ?? getBackend();
    try {
      forward(this.codec, this.packed, this.#kernelWeight(), backend, this.#backendGemv(), x.data, M, y.data);
    } catch (e) {
      y.dispose();
      throw e;
    }
    return record(y, `${this.format}.apply`, [x], [], (g) => {
      const gx = empty(x.shape);
      const backend = this.options.backend ?? getBackend();
      const kw = this.#backendGemv() ? this.#kernelWeight() : undefined;
      backwardInput(this.codec, this.packed, backend, g.data, M, gx.data, kw);
      return [gx];
    });
  }

  /** `options.backendGemv` with its default: "auto" for resident weights, else false. */
  #backendGemv(): boolean | "auto" {
    const gemv = this.options.backendGemv;
    return gemv === undefined ? this.resident && "auto" : gemv;
  }

  /** The kernel view (`#kernel`), made on first use; undefined when the format has none. */
  #kernelWeight(): KernelWeight | undefined {
    if (this.#kernel === undefined && this.codec.kernelWeight)
      this.#kernel = this.codec.kernelWeight(this.packed);
    return this.#kernel;
  }

  /** Quantised weights are frozen. */
  parameters(): Tensor[] {
    return [];
  }

  /** Stored packed: no f32 tensor to hand out (`dequantize()` makes one). */
  f32Weight(): null {
    return null;
  }

  /** The weight decoded to f32 [out, in] (a new tensor in `tmp`; the caller disposes it). */
  dequantize(): Tensor {
    return this.codec.dequantize(this.packed, "tmp");
  }

  /** Releases the packed storage. */
  dispose(): void {
    this.#kernel?.release();
    this.#kernel = undefined;
    this.packed.dispose();
  }
}

/** A weights strategy's exec for `format`: pack() quantises into a `PackedLinear`. */
export function packedWeights(
  format: WeightFormat,
  options: PackedLinearOptions = {},
): WeightsExec & { readonly format: WeightFormat } {
  return { format, pack: (w: Tensor, category: string) => new PackedLinear(format, w, category, options) };
}

/** y [M, N] = x [M, K] · Wᵀ (`kw`: the weight's kernel view, when its format has one). */
function forward(
  codec: WeightFormat,
  p: PackedWeight,
  kw: KernelWeight | undefined,
  backend: Backend,
  backendGemv: boolean | "auto",
  x: Float32Array,
  M: number,
  y: Float32Array,
): void {
  const K = p.cols;
  const N = p.rows;
  const kernel = backend.matmulDequant;
  if (backendGemv && kernel && kw && kernelTakes(kw.weight, K, M, backendGemv)) {
    if (M <= KERNEL_MAX_ROWS) kernel({ m: M, n: N, k: K, x, weight: kw.weight, y });
    else {
      for (let r = 0; r < M; r += KERNEL_MAX_ROWS) {
        const m = Math.min(KERNEL_MAX_ROWS, M - r);
        const xs = x.subarray(r * K, (r + m) * K);
        kernel({ m, n: N, k: K, x: xs, weight: kw.weight, y: y.subarray(r * N, (r + m) * N) });
      }
    }
    return;
  }
  if (M <= GEMV_MAX_ROWS) {
    for (let i = 0; i < M; i++) codec.gemv(p, x, i * K, y, i * N);
    return;
  }
  if (
    backendGemv &&
    kw &&
    backend.matmulDequantTiles?.({ mode: "forward", m: M, n: N, k: K, weight: kw.weight, a: x, c: y })
  )
    return;
  // c = x · tileᵀ [M, t], scattered into columns [r0, r0 + t) of y
  forEachTile(codec, p, M, (w, r0, t, c) => {
    backend.matmul(matmulArgs(M, t, K, x, w, c, { transB: true }));
    for (let i = 0; i < M; i++) y.set(c.subarray(i * t, i * t + t), i * N + r0);
  });
}

/**
 * gx [M, K] = g [M, N] · W, decoding W a tile of rows at a time: in the backend when it can
 * (`matmulDequantTiles`, given the weight's kernel view `kw`), else here (also `LlmInt8Linear`'s backward).
 */
export function backwardInput(
  codec: WeightFormat,
  p: PackedWeight,
  backend: Backend,
  g: Float32Array,
  M: number,
  gx: Float32Array,
  kw?: KernelWeight,
): void {
  const K = p.cols;
  const N = p.rows;
  if (
    kw &&
    backend.matmulDequantTiles?.({ mode: "inputGrad", m: M, n: N, k: K, weight: kw.weight, a: g, c: gx })
  )
    return;
  // gp = g[:, r0:r0+t] [M, t]; gx += gp · tile
  forEachTile(codec, p, M, (w, r0, t, gp) => {
    for (let i = 0; i < M; i++) gp.set(g.subarray(i * N + r0, i * N + r0 + t), i * t);
    backend.matmul(matmulArgs(M, K, t, gp, w, gx, { accumulate: r0 > 0 }));
  });
}

/**
 * Decode W a tile of `t` ≤ T rows at a time (T = tileRows) into bounded `tmp` scratch and call
 * `each(w, r0, t, panel)` with the tile w [t, K] (rows r0 .. r0 + t) and a scratch panel [M, T].
 */
function forEachTile(
  codec: WeightFormat,
  p: PackedWeight,
  M: number,
  each: (w: Float32Array, r0: number, t: number, panel: Float32Array) => void,
): void {
  const K = p.cols;
  const N = p.rows;
  const T = tileRows(N, K);
  const tile = empty([T, K]); // decoded rows of W [T, K]
  const panel = empty([M, T]);
  try {
    const w = tile.data;
    for (let r0 = 0; r0 < N; r0 += T) {
      const t = Math.min(T, N - r0);
      codec.decodeRows(p, r0, r0 + t, w);
      each(w, r0, t, panel.data);
    }
  } finally {
    tile.dispose();
    panel.dispose();
  }
}
