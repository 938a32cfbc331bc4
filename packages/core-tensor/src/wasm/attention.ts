/**
 * Blocked (flash-style) attention forward on the WASM kernels: tiles of Bq queries × Bk keys, online
 * softmax, no Tq×Tk score matrix (assembly/attention-tile.ts), heads split across threads. Raw arrays
 * in, raw array out, for the attention package to wrap. Not here: autograd or the naive oracle (the
 * attention package's `standard`; the test here has its own naive loop).
 */
import { ShapeError } from "../errors.js";
import { Arena, type WasmRuntime, wasmRuntime, withWorkspace } from "./runtime.js";

/**
 * Options of the WASM attention kernels: shapes q [B, H, tq, d], k, v [B, Hkv, tk, d], the mask, scale,
 * tiles and threads.
 */
export interface WasmAttentionOptions {
  /** Query heads H and K/V heads Hkv (H % Hkv = 0; query head h reads K/V head h / (H / Hkv)). */
  readonly heads: number;
  /** K/V heads Hkv. */
  readonly kvHeads: number;
  /** Query positions. */
  readonly tq: number;
  /** Key positions. */
  readonly tk: number;
  /** Elements per head. */
  readonly d: number;
  /** Causal mask aligned bottom-right: query i sees keys ≤ i + tk − tq. */
  readonly causal: boolean;
  /** Each query sees at most the last `window` keys (0 or undefined: no window). */
  readonly window?: number | undefined;
  /** Default 1/√d. */
  readonly scale?: number | undefined;
  /** Query tile edge (a hint; the result does not depend on it). */
  readonly blockQ?: number | undefined;
  /** Key tile edge (a hint; the result does not depend on it). */
  readonly blockK?: number | undefined;
  /** 1 or 2 (heads split); default 2. */
  readonly threads?: number;
  /**
   * [H, tq], overwritten with each query row's log Σ exp of its scaled visible scores (−∞ for a row
   * that sees no key): the statistic a backward recomputes the probabilities from. Default: not kept.
   */
  readonly lse?: Float32Array | undefined;
  /**
   * Floats from one K/V head to the next in k and v (default tk·d: contiguous [Hkv, tk, d]). Larger
   * when K/V are a cache's reservation of S ≥ tk positions per head read in place ([Hkv, S, d], stride
   * S·d): the first tk rows of each head are attended.
   */
  readonly kvStride?: number | undefined;
}

/**
 * out [H, tq, d] = softmax(scale·q·kᵀ + mask)·v for q [H, tq, d], k and v [Hkv, tk, d] (heads
 * `o.kvStride` floats apart); with `o.lse`, each row's log-sum-exp too.
 */
export function wasmAttention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  o: WasmAttentionOptions,
  rt: WasmRuntime = wasmRuntime(),
): void {
  const { heads, kvHeads, tq, tk, d } = o;
  if (kvHeads <= 0 || heads % kvHeads !== 0) {
    throw new ShapeError("wasmAttention", `heads=${heads} must be a multiple of kvHeads=${kvHeads}`, {
      heads,
      kvHeads,
    });
  }
  const stride = o.kvStride ?? tk * d;
  if (!(Number.isInteger(stride) && stride >= tk * d)) {
    throw new ShapeError("wasmAttention", `kvStride ${o.kvStride} must be an integer ≥ tk·d = ${tk * d}`, {
      kvStride: o.kvStride,
      tk,
      d,
    });
  }
  // K/V elements read: every head but the last a whole stride, the last its tk rows
  const kvSpan = (kvHeads - 1) * stride + tk * d;
  if (
    q.length < heads * tq * d ||
    out.length < heads * tq * d ||
    (o.lse !== undefined && o.lse.length < heads * tq) ||
    k.length < kvSpan ||
    v.length < kvSpan
  ) {
    throw new ShapeError(
      "wasmAttention",
      `attention needs q/out of ${heads * tq * d}, k/v of ${kvSpan} elements ([H, T, d], K/V heads ${stride} apart) and lse (if given) of ${heads * tq}`,
      { heads, kvHeads, tq, tk, d },
    );
  }
  const bq = o.blockQ ?? 64;
  const bk = o.blockK ?? 64;
  const nt = (o.threads ?? 2) > 1 && heads >= 2 && heads * tq * tk * d >= 1 << 16 ? 2 : 1;
  const arena = new Arena(rt.scratchBase);
  // Operands already in linear memory (resident: a decode step's K/V, gathered or the cache's own
  // reservation) are read or written in place; the others are laid out in the workspace and copied
  // (K and V together, each head's tk rows contiguous).
  const qRes = rt.addressOf(q);
  const kRes = rt.addressOf(k);
  const vRes = rt.addressOf(v);
  const oRes = rt.addressOf(out);
  const kvInPlace = kRes !== undefined && vRes !== undefined;
  const kvStride = kvInPlace ? stride : tk * d;
  const qAt = qRes ?? arena.take(heads * tq * d * 4);
  const kAt = kvInPlace ? kRes : arena.take(kvHeads * tk * d * 4);
  const vAt = kvInPlace ? vRes : arena.take(kvHeads * tk * d * 4);
  const oAt = oRes ?? arena.take(heads * tq * d * 4);
  const lseAt = o.lse ? arena.take(heads * tq * 4) : 0;
  const scratch = [arena.take((2 * bq + bk) * 4), arena.take((2 * bq + bk) * 4)];
  withWorkspace(rt, arena, ({ f32 }) => {
    if (qRes === undefined) f32.set(q.subarray(0, heads * tq * d), qAt >> 2);
    if (!kvInPlace) {
      for (let h = 0; h < kvHeads; h++) {
        const from = h * stride;
        const to = (kAt >> 2) + h * tk * d;
        f32.set(k.subarray(from, from + tk * d), to);
        f32.set(v.subarray(from, from + tk * d), to + ((vAt - kAt) >> 2));
      }
    }
    const scale = o.scale ?? 1 / Math.sqrt(d);
    const job = (h0: number, h1: number, t: number) => [
      h0,
      h1,
      heads,
      kvHeads,
      tq,
      tk,
      d,
      qAt,
      kAt,
      vAt,
      kvStride,
      oAt,
      scale,
      o.causal ? 1 : 0,
      o.window ?? 0,
      bq,
      bk,
      scratch[t]!,
      lseAt,
    ];
    const cut = Math.ceil(heads / 2);
    rt.run("attentionBlocked", nt === 2 ? [job(0, cut, 0), job(cut, heads, 1)] : [job(0, heads, 0)]);
    if (oRes === undefined) out.set(f32.subarray(oAt >> 2, (oAt >> 2) + heads * tq * d));
    o.lse?.set(f32.subarray(lseAt >> 2, (lseAt >> 2) + heads * tq));
  });
}
