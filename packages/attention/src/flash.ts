/**
 * Flash attention: exact softmax(QKᵀ·scale)·V computed in Bq×Bk tiles with an online softmax, so the
 * Tq×Tk score matrix never exists. Temporaries are one tile; backward saves only O and one
 * log-sum-exp per row (O(seq)) and recomputes the scores. Not an approximation: Standard is its oracle.
 */
import {
  type AttendOptions,
  type AttentionCost,
  type AttentionShape,
  type Backend,
  coerceOption,
  defineStrategy,
  empty,
  getBackend,
  type OptionsSpec,
  type OptionValue,
  record,
  type StrategyFactory,
  scope,
  type Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";
import {
  type FlashGeometry,
  flashBackwardKernel,
  flashForwardKernel,
  flashScratchLength,
} from "./flash-kernel.js";
import { attentionDims, checkAttendOptions, heldKeys, keysPrefix, recordsGrad } from "./standard.js";
import { WINDOW_OPTION, windowPlan, withWindow } from "./window.js";

/** Options of one Flash call: the attention options plus the tile sizes. */
export interface FlashOptions extends AttendOptions {
  /** Query rows per tile; default 64. */
  readonly blockQ?: number | undefined;
  /** Keys per tile; default 64. */
  readonly blockK?: number | undefined;
  /**
   * The backend whose fused `attention` kernel runs inference, and whose `attentionBackward` runs the
   * backward, when it has them (the WASM backend has both); default: the active backend at the
   * forward. Otherwise (training forward, or a backend without them) the JS kernels here run.
   */
  readonly backend?: Backend | undefined;
}

/** Default tile edge: a 64×64 f32 score tile (16 KiB) plus a 64×64 K and V block stay in L1/L2. */
export const FLASH_DEFAULT_BLOCK = 64;

/**
 * How far Flash may sit from Standard in fp32 (elementwise |a − b| ≤ atol + rtol·|b|), for O(1)
 * inputs. Both sum the same products in a different order, and Flash rescales its f32 output
 * accumulator once per key block (up to Tk roundings of ~6e-8 at block 1). Measured worst case over
 * 300 random cases (seq ≤ 50, D ≤ 16, blocks 1..50): 4.8e-7 on outputs, 5.7e-6 on gradients (dV,
 * dK sum over many rows); this bound leaves ~3× headroom for longer rows, not more.
 */
export const FLASH_FP32_TOL = { atol: 2e-5, rtol: 1e-4 } as const;

function checkBlock(name: string, value: number | undefined): number {
  if (value === undefined) return FLASH_DEFAULT_BLOCK;
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new ValueError(`flashAttention: ${name} must be a positive integer (e.g. 64), got ${value}`, {
      [name]: value,
    });
  }
  return value;
}

/**
 * softmax(mask(Q·Kᵀ·scale))·V, tiled. q [B, H, Tq, D]; k, v [B, Hkv, Tk, D] with H % Hkv = 0 (grouped
 * heads read their shared K/V head in place). Output [B, H, Tq, D] in `tmp`; differentiable in q, k, v.
 */
export function flashAttention(q: Tensor, k: Tensor, v: Tensor, options: FlashOptions): Tensor {
  const { B, H, Tq, D, Hkv, Tk: S } = attentionDims(q, k, v, "flashAttention");
  checkAttendOptions(options, "flashAttention");
  // `keys` < S: the first positions of each K/V head (a cache's reservation). The backend's inference
  // kernel reads them in place (heads S·D apart); every other path attends over a copy of them.
  const Tk = heldKeys(k, options, "flashAttention");
  const inference = !recordsGrad(q, k, v);
  const backend = options.backend ?? getBackend();
  const kernel = backend.attention;
  if (Tk < S && !(inference && kernel)) {
    return scope(() => {
      const p = keysPrefix(k, v, Tk, options);
      return flashAttention(q, p.k, p.v, p.options as FlashOptions);
    });
  }
  const geom: FlashGeometry = {
    B,
    H,
    Hkv,
    Tq,
    Tk,
    D,
    blockQ: checkBlock("blockQ", options.blockQ),
    blockK: checkBlock("blockK", options.blockK),
    scale: options.scale ?? 1 / Math.sqrt(D),
    causal: options.causal,
    window: options.window,
  };
  // The geometry as the backend kernels (forward and backward) take it.
  const kernelShape = {
    batch: B,
    heads: H,
    kvHeads: Hkv,
    tq: Tq,
    tk: Tk,
    headDim: D,
    causal: geom.causal,
    window: geom.window,
    scale: geom.scale,
    blockQ: geom.blockQ,
    blockK: geom.blockK,
  };
  const [qd, kd, vd] = [q.data, k.data, v.data]; // f32 only: .data throws a DTypeError otherwise
  const o = empty([B, H, Tq, D]); // (B, H, Tq, D)
  if (inference && kernel) {
    // Inference with a backend attention kernel (WASM: the same tiled online softmax in SIMD). No
    // statistics are kept: nothing will run backward.
    try {
      kernel({
        q: qd,
        k: kd,
        v: vd,
        out: o.data,
        ...kernelShape,
        kvStride: S * D, // K/V heads S·D floats apart (Tk·D unless `keys` < S)
      });
    } catch (e) {
      o.dispose();
      throw e;
    }
    return o;
  }
  const lse = empty([B, H, Tq]); // (B, H, Tq): the only statistic kept for backward
  try {
    if (kernel && backend.attentionBackward) {
      // Training on a backend with both tile kernels (WASM): its forward keeps the statistic its own
      // backward recomputes from, so the pair runs in SIMD with no JS tile loop.
      kernel({ q: qd, k: kd, v: vd, out: o.data, lse: lse.data, ...kernelShape });
    } else {
      const scratch = empty([flashScratchLength(geom, "forward")]); // one Bq×Bk tile + 2·Bq row stats
      try {
        flashForwardKernel(geom, qd, kd, vd, o.data, lse.data, scratch.data);
      } finally {
        scratch.dispose();
      }
    }
  } catch (e) {
    o.dispose();
    lse.dispose();
    throw e;
  }
  record(o, "flashAttention", [q, k, v], [q, k, v, o, lse], (g, [sq, sk, sv, so, sl]) => {
    const dq = empty(q.shape); // (B, H, Tq, D)
    const dk = empty(k.shape); // (B, Hkv, Tk, D)
    const dv = empty(v.shape); // (B, Hkv, Tk, D)
    if (backend.attentionBackward) {
      // The backend's tile kernel (WASM: the same recomputing backward in SIMD), overwriting dq, dk, dv.
      const [qa, ka, va, oa, la] = [sq!.data, sk!.data, sv!.data, so!.data, sl!.data];
      backend.attentionBackward({
        q: qa,
        k: ka,
        v: va,
        out: oa,
        lse: la,
        dOut: g.data,
        dq: dq.data,
        dk: dk.data,
        dv: dv.data,
        ...kernelShape,
      });
      return [dq, dk, dv];
    }
    const tile = empty([flashScratchLength(geom, "backward")]); // P and dS tiles + Dᵢ
    try {
      flashBackwardKernel(
        geom,
        sq!.data,
        sk!.data,
        sv!.data,
        so!.data,
        sl!.data,
        g.data,
        dq.data,
        dk.data,
        dv.data,
        tile.data,
      );
    } finally {
      tile.dispose();
    }
    return [dq, dk, dv];
  });
  lse.dispose(); // the graph holds its own handle when recording; otherwise this frees it
  return o;
}

/** The options of `Flash[...]`: `block` sets both tile edges unless `blockQ` / `blockK` are given. */
export const FLASH_OPTIONS = {
  block: { type: "int", default: FLASH_DEFAULT_BLOCK, min: 1, doc: "tile edge (query rows and keys)" },
  blockQ: { type: "int", default: 0, min: 0, doc: "query rows per tile (0 = block)" },
  blockK: { type: "int", default: 0, min: 0, doc: "keys per tile (0 = block)" },
  window: WINDOW_OPTION,
} satisfies OptionsSpec;

/** The tile edges `Flash[...]` options stand for: `blockQ` / `blockK`, where 0 means `block`. */
function tileOptions(o: { block: number; blockQ: number; blockK: number }) {
  return { blockQ: o.blockQ || o.block, blockK: o.blockK || o.block };
}

/**
 * Flash's costs: the output and the log-sum-exp [B, H, Tq] are saved; live are the output, the
 * statistics and one score tile, whose edges the kernel clamps to the sequence (`tileGeometry`);
 * no product goes through the backend's matmul; with a causal prefill, key blocks wholly above the
 * diagonal are skipped.
 */
export function flashCost(
  tiles: { readonly blockQ: number; readonly blockK: number },
  window?: number,
): AttentionCost {
  const span = window ?? Number.POSITIVE_INFINITY;
  return Object.freeze({
    savedElements: (s: AttentionShape) => s.batch * s.heads * s.tq * s.headDim + s.batch * s.heads * s.tq,
    tmpElements: (s: AttentionShape) =>
      s.batch * s.heads * s.tq * s.headDim +
      s.batch * s.heads * s.tq +
      Math.min(tiles.blockQ, Math.max(s.tq, 1)) * Math.min(tiles.blockK, Math.max(s.tk, 1)),
    matmulOperandElements: () => 0,
    // A window skips key blocks wholly before it too: at most window + one partial block per query.
    keysPerQuery: (tq: number, tk: number) =>
      tq > 1 ? Math.min(tk, (tk + 1) / 2 + tiles.blockK / 2, span + tiles.blockK) : Math.min(tk, span),
    exactTmp: false,
  });
}

const base = defineStrategy({
  name: "Flash",
  slot: "attention",
  description: "Tiled exact attention with online softmax (O(n) temporaries and saved activations)",
  options: FLASH_OPTIONS,
  labelOptions: ["block"],
  plan: (p, o) => {
    const q = windowPlan(p, o.window);
    return { ...q, attention: flashCost(tileOptions(o), q.arch.window) };
  },
  exec: (o) => {
    const tiles = tileOptions(o);
    return {
      attend: (q: Tensor, k: Tensor, v: Tensor, a: AttendOptions) =>
        flashAttention(q, k, v, { ...withWindow(a, o.window), ...tiles }),
      // the WASM kernel reads a cache's reservation in place (`AttendOptions.keys`)
      keysInPlace: true,
    };
  },
});

/**
 * One label per tile shape: the query block is written as `block`, and `blockK` only when it
 * differs (`flash({ blockQ: 32, blockK: 32 })` is `Flash[block=32]`). Invalid values pass through
 * untouched so the strategy reports them.
 */
function canonicalBlocks(given: Partial<Record<string, OptionValue>>): Partial<Record<string, OptionValue>> {
  const spec = FLASH_OPTIONS;
  let block: number;
  let bq: number;
  let bk: number;
  try {
    block = coerceOption("Flash", "block", spec.block, given.block ?? spec.block.default) as number;
    bq = coerceOption("Flash", "blockQ", spec.blockQ, given.blockQ ?? 0) as number;
    bk = coerceOption("Flash", "blockK", spec.blockK, given.blockK ?? 0) as number;
  } catch {
    return given;
  }
  const { blockQ: q, blockK: k } = tileOptions({ block, blockQ: bq, blockK: bk });
  const { blockQ: _q, blockK: _k, ...rest } = given;
  return { ...rest, block: q, ...(k !== q ? { blockK: k } : {}) };
}

/**
 * `Flash[block=64]`: tiled attention; `flash({ block: 32 })`, or `blockQ` / `blockK` separately;
 * `Flash[window=4096]` masks to a sliding window and skips the key tiles before it.
 */
export const flash: StrategyFactory<"attention", typeof FLASH_OPTIONS> = Object.assign(
  (given: Partial<Record<string, OptionValue>> = {}) => base(canonicalBlocks(given)),
  { definition: base.definition },
);
