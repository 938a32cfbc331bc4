/**
 * Products with a packed W at any number of rows, on the WASM kernels: W is decoded a tile of rows at
 * a time by the row-decoding kernel (assembly/dequant.ts `dequantRows`) into the call's workspace and
 * multiplied there by the blocked GEMM (assembly/gemm.ts), so x, the output and every tile stay in
 * linear memory for the whole call: x is copied in once and the output out once, where a tile decoded
 * in JS and handed to `wasmMatmul` copied x, the tile and the partial output once per tile. The
 * forward y = x·Wᵀ writes each tile's columns of y in place (row stride n); the input gradient
 * gx = g·W reads each tile's columns of g in place and accumulates into gx. Not here: decode-size
 * products (dequant.ts's GEMVs), the GEMM itself.
 */
import type { DequantTilesArgs } from "../backend.js";
import { ShapeError } from "../errors.js";
import { checkDequant, dequantRowsFormat, layOutWeight } from "./dequant.js";
import { wasmZero } from "./fused.js";
import { gemmBlocksCounter, runGemmBlocks, WASM_SPLIT_MIN_WORK } from "./matmul.js";
import { Arena, type WasmRuntime, wasmRuntime, withWorkspace } from "./runtime.js";

/** f32 elements of one decoded tile of W (1 MiB): the bound on a call's decoded rows. */
export const DEQUANT_TILE_ELEMENTS = 1 << 18;
/** Column splits are rounded to the GEMM micro-kernel's width. */
const NR = 8;

/** Rows of W [n, k] per decoded tile. */
function tileRowsOf(n: number, k: number): number {
  return Math.max(1, Math.min(n, Math.floor(DEQUANT_TILE_ELEMENTS / k)));
}

/**
 * `forward`: y [m, n] = x [m, k] · dequant(W)ᵀ; `inputGrad`: gx [m, k] = g [m, n] · dequant(W), both
 * overwriting the output (`args.c`). On up to `threads` threads (the GEMM of a tile is split by columns
 * when it is large enough). Returns false, writing nothing, for a format with no row-decoding kernel
 * (`dequantRowsFormat`: `f32x8`, whose rows are placed by n too).
 */
export function wasmMatmulDequantTiles(
  args: DequantTilesArgs & { readonly threads?: number },
  rt: WasmRuntime = wasmRuntime(),
  threads: number = args.threads ?? 2,
): boolean {
  const { m, n, k, weight, a, c, mode } = args;
  checkDequant(weight, n, k);
  if (!dequantRowsFormat(weight.format)) return false;
  const inner = mode === "forward" ? k : n;
  const outer = mode === "forward" ? n : k;
  if (a.length < m * inner || c.length < m * outer) {
    throw new ShapeError(
      "dequantTiles",
      `${mode}: a needs ${m * inner} and c ${m * outer} elements, got ${a.length} and ${c.length}`,
      { m, n, k },
    );
  }
  if (m <= 0 || n <= 0 || k <= 0) {
    c.fill(0, 0, m * outer);
    return true;
  }
  const T = tileRowsOf(n, k);
  const arena = new Arena(rt.scratchBase);
  const aAt = arena.take(m * inner * 4);
  const cAt = arena.take(m * outer * 4);
  const { write, code, args: wArgs } = layOutWeight(rt, arena, weight, n, k);
  const tAt = arena.take((T * k + 16) * 4); // + the row decoder's 16 f32 of scratch
  const scratch = [arena.take(rt.gemmScratchBytes), arena.take(rt.gemmScratchBytes)];
  withWorkspace(rt, arena, ({ f32, u8 }) => {
    f32.set(a.subarray(0, m * inner), aAt >> 2);
    write(f32, u8);
    wasmZero(rt, cAt, m * outer * 4);
    for (let r0 = 0; r0 < n; r0 += T) {
      const t = Math.min(T, n - r0);
      rt.run("dequantRows", [[code, k, r0, r0 + t, ...wArgs, tAt]]);
      // forward: C[:, r0:r0+t] += x · tileᵀ; inputGrad: gx += g[:, r0:r0+t] · tile
      const cols = mode === "forward" ? t : k;
      const depth = mode === "forward" ? k : t;
      // A(i, q) = a[i·rsA + q], B(q, j) = b[q·rsB + j·csB], C row stride ldc (gemm.ts operands)
      const [aFrom, rsA, rsB, csB, cFrom, ldc] =
        mode === "forward" ? [aAt, k, 1, k, cAt + r0 * 4, n] : [aAt + r0 * 4, n, k, 1, cAt, k];
      const job = (j0: number, j1: number, s: number): number[] => [
        0,
        1,
        m,
        depth,
        j0,
        j1,
        aFrom,
        0,
        rsA,
        1,
        tAt,
        0,
        rsB,
        csB,
        cFrom,
        0,
        ldc,
        scratch[s]!,
      ];
      const split = threads > 1 && m * t * k >= WASM_SPLIT_MIN_WORK && cols >= 2 * NR;
      // Columns in blocks from a counter, as matmul.ts's one product; static halves when A is too big.
      const counterAt = split ? gemmBlocksCounter(rt, m, depth, cols, scratch[0]!) : undefined;
      if (counterAt !== undefined)
        runGemmBlocks(
          rt,
          u8,
          counterAt,
          [m, depth, cols, aFrom, rsA, 1, tAt, rsB, csB, cFrom, ldc],
          scratch,
          cols,
        );
      else if (split) {
        const cut = Math.ceil(cols / (2 * NR)) * NR;
        rt.run("gemmBatched", [job(0, cut, 0), job(cut, cols, 1)]);
      } else rt.run("gemmBatched", [job(0, cols, 0)]);
    }
    c.set(f32.subarray(cAt >> 2, (cAt >> 2) + m * outer));
  });
  return true;
}
