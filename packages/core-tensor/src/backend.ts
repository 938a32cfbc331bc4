/**
 * The kernel interface. A backend is a small set of kernels on raw Float32Arrays; ops (ops/) do the
 * shape logic, allocation and autograd on top. `JS` is the baseline; a faster backend may override
 * any subset and inherit the rest (`{ ...jsBackend, matmul }`), and may add the optional fused
 * kernels (`attention`, `matmulDequant`) that callers use when present and replace with their own
 * JS kernels otherwise.
 */

import type { DType } from "./dtype.js";
import { ValueError } from "./errors.js";
import * as ew from "./kernels/elementwise.js";
import { type AdamWArgs, type MaskedSoftmaxArgs, maskedSoftmax, type SampleArgs } from "./kernels/fused.js";
import { type MatmulArgs, matmulBlocked } from "./kernels/matmul.js";
import type { RmsNormBackwardArgs } from "./kernels/rows.js";
import * as rows from "./kernels/rows.js";
import type { MemoryLedger, Storage } from "./ledger.js";

/**
 * One attention forward on raw arrays: out [B, H, Tq, D] = softmax(scale·q·kᵀ, masked)·v for
 * q [B, H, Tq, D] and k, v [B, Hkv, Tk, D] (query head h reads K/V head ⌊h / (H / Hkv)⌋). The mask is
 * AttendOptions' rule: query i's last key is hi = i + Tk − Tq when causal (else Tk − 1), and a window
 * keeps the last `window` keys up to hi. A query that sees no key gets zeros.
 */
export interface AttentionKernelArgs {
  /** Queries [B, H, Tq, D], row-major. */
  readonly q: Float32Array;
  /** Keys [B, Hkv, Tk, D] (K/V heads `kvStride` floats apart). */
  readonly k: Float32Array;
  /** Values [B, Hkv, Tk, D], laid out as `k`. */
  readonly v: Float32Array;
  /** Output [B, H, Tq, D], overwritten. */
  readonly out: Float32Array;
  /** B: sequences. */
  readonly batch: number;
  /** H: query heads. */
  readonly heads: number;
  /** Hkv: K/V heads (H % Hkv = 0). */
  readonly kvHeads: number;
  /** Tq: query positions. */
  readonly tq: number;
  /** Tk: key positions. */
  readonly tk: number;
  /** D: elements per head. */
  readonly headDim: number;
  /** Apply the causal mask (bottom-right aligned). */
  readonly causal: boolean;
  /** Keys each query sees at most (undefined: no window). */
  readonly window?: number | undefined;
  /** Score scale (usually 1/√D). */
  readonly scale: number;
  /** Tile edges the kernel may use (a hint; the result does not depend on them). */
  readonly blockQ?: number | undefined;
  /** Key tile edge (a hint, like `blockQ`). */
  readonly blockK?: number | undefined;
  /**
   * Floats from one K/V head to the next in `k` and `v` (default Tk·D, contiguous; sequences
   * Hkv·kvStride apart): S·D when K/V are a cache's reservation of S ≥ Tk positions per head read in
   * place, of which the first Tk are attended. Inference only (no `lse`).
   */
  readonly kvStride?: number | undefined;
  /**
   * [B, H, Tq], when given: overwritten with each query row's log Σ exp of its scaled visible scores
   * (−∞ for a row that sees no key), so that the same backend's `attentionBackward` can run from this
   * forward (training). A kernel that cannot produce it must throw rather than leave it unwritten.
   */
  readonly lse?: Float32Array | undefined;
}

/**
 * One attention backward on raw arrays, given the forward's output and per-row log-sum-exp of the
 * scaled, masked scores (lse [B, H, Tq]; −∞ for a row that sees no key): dq [B, H, Tq, D] and dk, dv
 * [B, Hkv, Tk, D] are overwritten with the gradients for dOut (dk, dv summed over each K/V head's query
 * group). Geometry and mask as `AttentionKernelArgs` (its `out` is the forward's output here).
 */
export interface AttentionBackwardArgs extends AttentionKernelArgs {
  /** [B, H, Tq]: log Σ exp of each query row's scaled visible scores. */
  readonly lse: Float32Array;
  /** The gradient of `out`. */
  readonly dOut: Float32Array;
  /** [B, H, Tq, D], overwritten with the gradient of q. */
  readonly dq: Float32Array;
  /** [B, Hkv, Tk, D], overwritten with the gradient of k. */
  readonly dk: Float32Array;
  /** [B, Hkv, Tk, D], overwritten with the gradient of v. */
  readonly dv: Float32Array;
}

/**
 * A packed weight W [n, k] in a layout a dequantising kernel reads, row by row except `f32x8`:
 * - `q8_0` / `q4_0`: GGUF's Q8_0 / Q4_0 blocks of 32 (k a multiple of 32);
 * - `nibble`: ⌈k/2⌉ bytes per row, element 2t in the LOW nibble of byte t and 2t+1 in the high one;
 *   value = codebook[code] · scales[row · ⌈k/group⌉ + ⌊col/group⌋] (the last group may be shorter);
 * - `i8`: k signed bytes per row; value = q · scales[row · ⌈k/group⌉ + ⌊col/group⌋] (group = k: one
 *   scale per row);
 * - `f16` / `bf16`: k 16-bit floats per row;
 * - `f32x8`: the f32 values in the tiled `f32x8` layout (`packF32x8`: blocks of 64 rows, segments of
 *   256 columns, tiles of 8 rows), ⌈n/8⌉·8 · ⌈k/4⌉·4 floats.
 */
export type DequantWeight =
  | { readonly format: "q8_0" | "q4_0"; readonly data: Uint8Array }
  /** IEEE half (`f16`) or bfloat16 (`bf16`) [n, k], two little-endian bytes per weight. */
  | { readonly format: "f16" | "bf16"; readonly data: Uint8Array }
  /** f32 [n, k] in the `f32x8` layout, little-endian bytes. */
  | { readonly format: "f32x8"; readonly data: Uint8Array }
  | {
      readonly format: "i8";
      readonly data: Uint8Array;
      readonly group: number;
      /** f32 [n, ⌈k / group⌉]. */
      readonly scales: Float32Array;
    }
  | {
      readonly format: "nibble";
      readonly data: Uint8Array;
      /** The 16 values a code stands for, before scaling. */
      readonly codebook: Float32Array;
      readonly group: number;
      /** f32 [n, ⌈k / group⌉]; unused (may be empty) when `dq` is given. */
      readonly scales: Float32Array;
      /** Double-quantised scales (NF4): kernels decode them, no f32 copy is made. */
      readonly dq?: DoubleQuantScales | undefined;
    };

/**
 * Group scales stored double-quantised (QLoRA's NF4): scale t of the row-major [n, ⌈k / group⌉] grid
 * is `codes[t]·chunkScales[⌊t / chunk⌋] + mean`, computed in f64 and rounded to f32.
 */
export interface DoubleQuantScales {
  /** One signed 8-bit code per group scale, [n·⌈k / group⌉]. */
  readonly codes: Int8Array;
  /** One f32 per `chunk` consecutive codes. */
  readonly chunkScales: Float32Array;
  /** Codes per chunk scale. */
  readonly chunk: number;
  /** Added to every decoded scale. */
  readonly mean: number;
}

/** y [m, n] = x [m, k] · dequant(W)ᵀ, overwriting y. */
export interface DequantMatmulArgs {
  /** Rows of x and y. */
  readonly m: number;
  /** Output features (rows of W). */
  readonly n: number;
  /** Input features (columns of W). */
  readonly k: number;
  /** Input x [m, k]. */
  readonly x: Float32Array;
  /** The packed weight W [n, k]. */
  readonly weight: DequantWeight;
  /** Output y [m, n], overwritten. */
  readonly y: Float32Array;
}

/**
 * A product with a packed W [n, k] at any number of rows m, overwriting `c`: `forward` c [m, n] =
 * a [m, k] · dequant(W)ᵀ (a linear layer's output); `inputGrad` c [m, k] = a [m, n] · dequant(W) (its
 * gradient with respect to the input).
 */
export interface DequantTilesArgs {
  /** Which product: `forward` (a = x) or `inputGrad` (a = the output's gradient). */
  readonly mode: "forward" | "inputGrad";
  /** Rows of a and c. */
  readonly m: number;
  /** Output features (rows of W). */
  readonly n: number;
  /** Input features (columns of W). */
  readonly k: number;
  /** The packed weight W [n, k]. */
  readonly weight: DequantWeight;
  /** Left operand: [m, k] (`forward`) or [m, n] (`inputGrad`). */
  readonly a: Float32Array;
  /** Output, overwritten: [m, n] (`forward`) or [m, k] (`inputGrad`). */
  readonly c: Float32Array;
}

/**
 * The kernels every tensor operation runs on, over flat f32 arrays with explicit shapes: a small required
 * set (matmul, elementwise, reductions, norms, RoPE, gather, cross-entropy, top-k) plus optional fused
 * kernels. `JS` is the reference; `WASM` is tested against it.
 */
export interface Backend {
  /** The CLI word of the backend strategy (`JS`, `WASM`). */
  readonly name: string;
  /** Batched C = op(A)·op(B); see `MatmulArgs`. */
  matmul(args: MatmulArgs): void;
  /** Elementwise `op` of `a` and `b` with broadcasting (shapes as given) into `out`. */
  binary(
    op: ew.BinaryOp,
    a: Float32Array,
    aShape: readonly number[],
    b: Float32Array,
    bShape: readonly number[],
    out: Float32Array,
  ): void;
  /** Elementwise `op` of `x` into `out`. */
  unary(op: ew.UnaryOp, x: Float32Array, out: Float32Array): void;
  /** Reduces `x` viewed as [outer, n, inner] over its middle axis into `out` [outer, inner]. */
  reduce(op: ew.ReduceOp, x: Float32Array, outer: number, n: number, inner: number, out: Float32Array): void;
  /** Row-wise softmax (or log-softmax when `log`) of x [rows, cols] into `out`. */
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: boolean): void;
  /**
   * RMSNorm of x [rows, cols] with weight `w` [cols] into `out`; fills `rstd` [rows] (1/RMS) for backward
   * when given.
   */
  rmsNorm(
    x: Float32Array,
    w: Float32Array,
    out: Float32Array,
    rows: number,
    cols: number,
    eps: number,
    rstd?: Float32Array,
  ): void;
  /**
   * LayerNorm of x [rows, cols] with weight `w` and bias `b` into `out`; fills `mean` and `rstd` [rows] for
   * backward when given.
   */
  layerNorm(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    out: Float32Array,
    rows: number,
    cols: number,
    eps: number,
    mean?: Float32Array,
    rstd?: Float32Array,
  ): void;
  /**
   * Rotary position embedding (half-split pairs, as Hugging Face Llama) of x [outer, T, D] into `out`, base
   * `theta`; `positions` holds T entries (shared) or one row of T per group of outer rows. `inverse` rotates
   * by −θ (backward).
   */
  rope(
    x: Float32Array,
    out: Float32Array,
    outer: number,
    T: number,
    D: number,
    positions: ArrayLike<number>,
    theta: number,
    inverse: boolean,
  ): void;
  /** Rows `ids` of table [rows, cols] into `out` [ids.length, cols] (embedding lookup). */
  gather(table: Float32Array, rows: number, cols: number, ids: ArrayLike<number>, out: Float32Array): void;
  /**
   * Per-row cross-entropy (−log softmax(logits)[target]) of logits [rows, cols] into `losses`; rows whose
   * target is `ignoreIndex` get 0. Returns how many rows were counted.
   */
  crossEntropy(
    logits: Float32Array,
    targets: ArrayLike<number>,
    rows: number,
    cols: number,
    losses: Float32Array,
    ignoreIndex: number,
  ): number;
  /**
   * The `k` largest values per row of x [rows, cols] into `values` [rows, k] and their column indices into
   * `indices`, descending (ties: lower index first).
   */
  topk(
    x: Float32Array,
    rows: number,
    cols: number,
    k: number,
    values: Float32Array,
    indices: Int32Array,
  ): void;
  /** Column index of each row's largest value of x [rows, cols]. */
  argmax(x: Float32Array, rows: number, cols: number, out: Int32Array): void;
  /**
   * Optional fused attention forward (inference: no statistics for backward). Absent on `JS`, whose
   * callers run their own kernels; present on `WASM` (the blocked SIMD kernel).
   */
  readonly attention?: ((args: AttentionKernelArgs) => void) | undefined;
  /**
   * Optional attention backward from the forward's output and log-sum-exp (training with Flash:
   * the WASM tile kernel). Absent on `JS`, whose callers run their own kernel.
   */
  readonly attentionBackward?: ((args: AttentionBackwardArgs) => void) | undefined;
  /** Optional dequantising matmul over packed weights (the quantised GEMV of decode). */
  readonly matmulDequant?: ((args: DequantMatmulArgs) => void) | undefined;
  /**
   * Optional product with a packed W at any m (prefill, training), decoding W a tile of rows at a time
   * inside the backend; returns false (nothing written) for a format it has no row decoder for.
   */
  readonly matmulDequantTiles?: ((args: DequantTilesArgs) => boolean) | undefined;
  /**
   * Optional fused SwiGLU activation: out[i] = silu(gate[i]) · up[i] over gate.length elements
   * (reference: kernels/fused.ts `siluMul`, which the `siluMul` op runs when this is absent).
   */
  readonly siluMul?: ((gate: Float32Array, up: Float32Array, out: Float32Array) => void) | undefined;
  /**
   * Optional SiLU backward: out[i] = g[i] · silu′(x[i]) over out.length elements, bit-identical to its
   * reference (kernels/fused.ts `siluBackward`, which the `silu` op's backward runs when this is absent).
   */
  readonly siluBackward?: ((g: Float32Array, x: Float32Array, out: Float32Array) => void) | undefined;
  /**
   * Optional RMSNorm backward, bit-identical to its reference (kernels/rows.ts `rmsNormBackward`, which
   * the `rmsNorm` op's backward runs when this is absent).
   */
  readonly rmsNormBackward?: ((args: RmsNormBackwardArgs) => void) | undefined;
  /**
   * Optional softmax of attention scores under the causal / window mask (reference: kernels/fused.ts
   * `maskedSoftmax`, which `jsBackend` carries and Standard attention runs when this is absent).
   */
  readonly maskedSoftmax?: ((args: MaskedSoftmaxArgs) => void) | undefined;
  /** Optional greedy / temperature sampler over rows of logits (reference: kernels/fused.ts `sample`). */
  readonly sample?: ((args: SampleArgs) => void) | undefined;
  /** Optional one-pass AdamW update of f32 arrays (reference: kernels/fused.ts `adamw`). */
  readonly adamw?: ((args: AdamWArgs) => void) | undefined;
  /**
   * Optional placement of long-lived weights in the backend's own memory (WASM: its linear memory),
   * so its kernels read them in place. Zeroed storage charged to `category` in `ledger` exactly as
   * `ledger.allocate` would; release it like any storage. Undefined when the backend's memory has
   * no room (the caller allocates ordinary storage). Used through `withResidentWeights`.
   */
  readonly allocateResident?:
    | ((ledger: MemoryLedger, category: string, dtype: DType, length: number) => Storage | undefined)
    | undefined;
}

/** The pure-JavaScript backend: cache-blocked matmul, straightforward loops elsewhere. */
export const jsBackend: Backend = Object.freeze({
  name: "JS",
  matmul: matmulBlocked,
  binary: ew.binary,
  unary: ew.unary,
  reduce: ew.reduce,
  softmax: rows.softmax,
  rmsNorm: rows.rmsNorm,
  layerNorm: rows.layerNorm,
  rope: rows.rope,
  gather: rows.gather,
  crossEntropy: rows.crossEntropy,
  topk: rows.topk,
  argmax: rows.argmax,
  maskedSoftmax,
});

const registry = new Map<string, Backend>([["js", jsBackend]]);
let active: Backend = jsBackend;

/** Make a backend selectable by name (case-insensitive). */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name.toLowerCase(), backend);
}

/** The backend kernels run on now. */
export function getBackend(): Backend {
  return active;
}

/** Switch backends by name or object; returns the previous one. */
export function setBackend(backend: Backend | string): Backend {
  const prev = active;
  if (typeof backend === "string") {
    const b = registry.get(backend.toLowerCase());
    if (!b) {
      throw new ValueError(
        `unknown backend '${backend}'; available: ${[...registry.values()].map((x) => x.name).join(", ")}`,
        {
          backend,
        },
      );
    }
    active = b;
  } else active = backend;
  return prev;
}

/** Run `fn` with `backend` active (restored afterwards). */
export function withBackend<T>(backend: Backend | string, fn: () => T): T {
  const prev = setBackend(backend);
  try {
    return fn();
  } finally {
    active = prev;
  }
}

/** Every registered backend (`JS`, and `WASM` once registered). */
export function listBackends(): readonly Backend[] {
  return [...registry.values()];
}

export type { AdamWArgs, MaskedSoftmaxArgs, MatmulArgs, RmsNormBackwardArgs, SampleArgs };
