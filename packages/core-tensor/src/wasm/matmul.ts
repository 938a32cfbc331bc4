/**
 * `Backend.matmul` on the WASM kernels: copies the operands' spans into the shared linear memory, runs
 * the blocked SIMD GEMM (assembly/gemm.ts) on 1 or 2 threads, copies C back. Same `MatmulArgs`
 * contract as the JS kernels (transposes, batch strides, broadcast batch, accumulate). Not here: the
 * kernels themselves or thread management (runtime.ts).
 *
 * An operand already in linear memory (a resident weight, resident.ts) is read in place, not copied;
 * a thin product (m ≤ GEMV_MAX_M, B = Wᵀ with W [n, k] resident) runs the GEMV kernel (gemv-f32.ts) split
 * by rows of W. Ledger: the bytes a call lays out in linear memory (A, B, C spans and scratch) are charged
 * to `tmp/wasm` for the duration of the call — transient workspace, like attention scores. The linear
 * memory itself only grows (wasm cannot shrink it); `WasmRuntime.reservedBytes` reports that reserve.
 */
import type { MatmulArgs } from "../kernels/matmul.js";
import { wasmZero } from "./fused.js";
import { Arena, type WasmRuntime, withWorkspace } from "./runtime.js";

/**
 * Below this many multiply-adds a GEMM runs on one thread. Re-measured 2026-11-28 with the polling
 * hand-off (runtime.ts), through `wasmMatmul` (staging included) with the split forced, 2 threads ÷
 * 1 thread, medians of 41 interleaved samples, second core free (load 1.8–2.8): 8×64×192 (0.1M)
 * 1.06, 16×64×192 (0.2M) 0.74, 32×64×192 (0.4M) 1.01, 16×192×192 (0.6M) 0.56–0.71, 8×192×576 (0.8M)
 * 0.64, 16×192×576 (1.7M) 0.54–0.55, 128×192×192 (4.5M) 0.57–0.66, 128×192×576 (13.5M) 0.55,
 * 512×512×512 0.55–0.56. With the old futex hand-off 16×192×576 was 1.34 and 128×192×192 0.85, hence
 * the old 2^22. On a loaded machine (load ≈ 4, no free core) the split costs 1.0–1.3× mostly (the
 * caller takes back a job its helper has not started), up to 3.5× when the helper is descheduled
 * mid-share.
 */
export const WASM_SPLIT_MIN_WORK = 1 << 19;
/** Products (each of a batch) below this many multiply-adds split the batch, not the columns. */
const BATCH_SPLIT_MAX_WORK = 1 << 24;
/** Rows of x up to which a product with a resident Wᵀ runs the GEMV kernel instead of the GEMM. */
export const GEMV_MAX_M = 4;
/**
 * Multiply-adds from which a packed-format GEMV (dequant.ts) is split over 2 threads by rows of W
 * (blocks of `packedChunkRows` rows from a shared counter; static halves when this was measured). 2^19 since the polling hand-off: measured 2026-11-28 (quiet machine, PackedLinear on
 * the WASM backend, 1×k·n products, medians of 7 × 200 calls, µs at 2^21 → 2^19): simd Q8_0 768×768
 * 100 → 78, 2048×768 206 → 109; Q4_0 94 → 63, 228 → 120; INT8 2048×768 125 → 71; relaxed Q4_0 2048×768
 * 88–130 → 74, Q8_0 122–172 → 95–101 (768×768 relaxed Q8_0 mixed: 59–86 → 84–88). With the futex
 * hand-off (2026-11-27) splitting paid only from 2048 wide, hence the old 2^21. `pnpm bench decode`
 * prints the crossover (section 2, FP32 and NF4, square d×d, 1 vs 2 threads). The FP32 GEMV has its
 * own threshold (GEMV_F32_SPLIT_MIN_WORK) and block size (gemvChunkRows).
 */
export const GEMV_SPLIT_MIN_WORK = 1 << 19;
/**
 * Multiply-adds from which the FP32 GEMV is split over 2 threads (dynamic row blocks). Measured
 * 2026-11-28 with the polling hand-off, split forced, 2 threads ÷ 1 thread, medians of 41
 * interleaved samples, second core free: 512² 0.97–1.02, 600² 0.97, 724² 0.65–0.73, 1024² 0.57–0.58,
 * 1448² 0.52–0.56, 2048² 0.55; with the futex hand-off (2026-11-27) 512–1448 showed no gain. 2^19 =
 * 724² rounded up: every layer from 1024 wide splits.
 */
export const GEMV_F32_SPLIT_MIN_WORK = 1 << 19;
/** Column splits are rounded to the micro-kernel width. */
const NR = 8;
/**
 * A GEMM split over 2 threads hands out its columns in about this many blocks (`gemmBlocks`): enough
 * that a thread that starts late (a helper waking up) or is descheduled does fewer, few enough that
 * each block still fills the micro-kernel (at least GEMM_MIN_CHUNK columns). Measured 2026-11-28,
 * `small` training steps (B=4, T=64: products of 256 × 192…512), split kinds alternated run by run in
 * one process, medians of 8 runs of 3 steps, ms, static halves → blocks: Baseline 104.8 → 102.0,
 * INT8 83.3 → 81.7, MoE 263.9 → 264.2; with one core taken by another process: Baseline 204.8 →
 * 199.4, INT8 148.0 → 136.1. The caller's wait for the helper after its own share, over 20 Baseline
 * steps: 137 → 96 ms and 353 → 58 ms (two runs).
 */
const GEMM_SPLIT_BLOCKS = 16;
const GEMM_MIN_CHUNK = 4 * NR;

/** Columns per block of a dynamic GEMM split of n columns (a multiple of NR). */
export function gemmChunkColumns(n: number): number {
  return Math.max(GEMM_MIN_CHUNK, Math.ceil(n / GEMM_SPLIT_BLOCKS / NR) * NR);
}

/**
 * Where the counter of a 2-thread `gemmBlocks` split of one m×k · k×n product goes: in thread 0's
 * scratch (at `scratch0`) past what gemmBlocks uses of it, so the workspace, and so `tmp`, stays what
 * the cost model charges (`matmulWorkspaceBytes`). Undefined when the split does not apply: m ≤ 2 (the
 * small-m kernel), fewer than two blocks of columns, or A packed whole not fitting beside a block of B.
 */
export function gemmBlocksCounter(
  rt: WasmRuntime,
  m: number,
  k: number,
  n: number,
  scratch0: number,
): number | undefined {
  const chunk = gemmChunkColumns(n);
  if (m <= 2 || n < 2 * chunk) return undefined;
  const used = rt.gemmBlocksScratchBytes(m, k, chunk);
  return used + 4 <= rt.gemmScratchBytes ? scratch0 + used : undefined;
}

/**
 * Run `gemmBlocks` on 2 threads over n columns: both take blocks of `gemmChunkColumns(n)` columns from
 * the counter at `counterAt` (zeroed here), one from each end, so a late helper costs its blocks, not
 * a wait. `head`: the kernel's arguments before its scratch (m, k, n, A, rsA, csA, B, rsB, csB, C,
 * ldc); `scratch`: each thread's.
 */
export function runGemmBlocks(
  rt: WasmRuntime,
  u8: Uint8Array,
  counterAt: number,
  head: readonly number[],
  scratch: readonly number[],
  n: number,
): void {
  u8.fill(0, counterAt, counterAt + 4);
  const chunk = gemmChunkColumns(n);
  rt.run("gemmBlocks", [
    [...head, scratch[0]!, ...splitArgs(counterAt, chunk, n, 0, NR)],
    [...head, scratch[1]!, ...splitArgs(counterAt, chunk, n, 1, NR)],
  ]);
}

/** Elements an operand occupies across the batch (a 0 stride broadcasts one matrix). */
function span(batch: number, stride: number, size: number): number {
  return (batch - 1) * Math.max(stride, 0) + size;
}

/** C = op(A)·op(B) (batched) on `rt`, using up to `threads` threads. */
export function wasmMatmul(rt: WasmRuntime, p: MatmulArgs, threads: number): void {
  const { m, n, k, batch } = p;
  if (batch <= 0 || m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!p.accumulate)
      for (let t = 0; t < batch; t++)
        p.c.fill(0, p.cOffset + t * p.cBatchStride, p.cOffset + t * p.cBatchStride + m * n);
    return;
  }
  const aLen = span(batch, p.aBatchStride, m * k);
  const bLen = span(batch, p.bBatchStride, k * n);
  const cLen = span(batch, p.cBatchStride, m * n);
  const aRes = rt.addressOf(p.a);
  const bRes = rt.addressOf(p.b);
  if (batch === 1 && m <= GEMV_MAX_M && p.transB && !p.transA && bRes !== undefined) {
    gemvResident(rt, p, bRes + p.bOffset * 4, threads);
    return;
  }
  const work = m * n * k;
  const nt = threads > 1 && work * batch >= WASM_SPLIT_MIN_WORK ? threads : 1;
  const arena = new Arena(rt.scratchBase);
  const aAt = aRes !== undefined ? aRes + p.aOffset * 4 : arena.take(aLen * 4);
  const bAt = bRes !== undefined ? bRes + p.bOffset * 4 : arena.take(bLen * 4);
  const cAt = arena.take(cLen * 4);
  const scratch: number[] = [];
  for (let t = 0; t < nt; t++) scratch.push(arena.take(rt.gemmScratchBytes));
  // One product split by columns: the columns go out in blocks (`runGemmBlocks`).
  const counterAt = nt === 2 && batch === 1 ? gemmBlocksCounter(rt, m, k, n, scratch[0]!) : undefined;
  withWorkspace(rt, arena, ({ f32, u8 }) => {
    if (aRes === undefined) f32.set(p.a.subarray(p.aOffset, p.aOffset + aLen), aAt >> 2);
    if (bRes === undefined) f32.set(p.b.subarray(p.bOffset, p.bOffset + bLen), bAt >> 2);
    if (p.accumulate) f32.set(p.c.subarray(p.cOffset, p.cOffset + cLen), cAt >> 2);
    else wasmZero(rt, cAt, cLen * 4);
    // A(i, q) = a[i·rsA + q·csA]; B(q, j) = b[q·rsB + j·csB]
    const rsA = p.transA ? 1 : k;
    const csA = p.transA ? m : 1;
    const rsB = p.transB ? 1 : n;
    const csB = p.transB ? k : 1;
    const job = (b0: number, b1: number, j0: number, j1: number, t: number): number[] => [
      b0,
      b1,
      m,
      k,
      j0,
      j1,
      aAt,
      p.aBatchStride,
      rsA,
      csA,
      bAt,
      p.bBatchStride,
      rsB,
      csB,
      cAt,
      p.cBatchStride,
      n,
      scratch[t]!,
    ];
    if (counterAt !== undefined)
      runGemmBlocks(rt, u8, counterAt, [m, k, n, aAt, rsA, csA, bAt, rsB, csB, cAt, n], scratch, n);
    else {
      const jobs: number[][] = [];
      if (nt === 1) jobs.push(job(0, batch, 0, n, 0));
      else if (batch >= nt && (work < BATCH_SPLIT_MAX_WORK || n < 2 * NR)) {
        // Many small products (attention heads): split the batch.
        const half = Math.ceil(batch / 2);
        jobs.push(job(0, half, 0, n, 0), job(half, batch, 0, n, 1));
      } else if (n >= 2 * NR || m <= 2) {
        // One big product (or a decode GEMV): split the columns.
        const cut = Math.min(n, m <= 2 ? Math.ceil(n / 8) * 4 : Math.ceil(n / (2 * NR)) * NR);
        jobs.push(job(0, batch, 0, cut, 0), job(0, batch, cut, n, 1));
      } else jobs.push(job(0, batch, 0, n, 0));
      rt.run("gemmBatched", jobs);
    }
    // Copy C back (one block when the batch is contiguous).
    if (batch === 1 || p.cBatchStride === m * n)
      p.c.set(f32.subarray(cAt >> 2, (cAt >> 2) + cLen), p.cOffset);
    else {
      for (let t = 0; t < batch; t++) {
        const from = (cAt >> 2) + t * p.cBatchStride;
        p.c.set(f32.subarray(from, from + m * n), p.cOffset + t * p.cBatchStride);
      }
    }
  });
}

/** Threads for a GEMV of `work` multiply-adds over `n` rows of W, split from `minWork` on. */
export function gemvThreads(threads: number, work: number, n: number, minWork = GEMV_SPLIT_MIN_WORK): number {
  return threads > 1 && work >= minWork && n >= 8 ? 2 : 1;
}

/**
 * Bytes of W per block of the FP32 GEMV's dynamic split (rounded to 8 rows): 1 MiB is 64 rows of a
 * 4096-wide layer, 20–40 µs of work, so 2^6–2^8 atomic hand-outs per 4096² call (well under 1% of its
 * time) while the thread that finishes last waits at most one block for the other. The kernel reads a
 * block as eight bands of rows (gemv-f32.ts `bands`), so a longer block means longer streams of W.
 * Measured 2026-11-29 with the banded kernel: `medium` FP32 decode (layers of 2.25 and 6 MiB, one
 * process, block sizes alternated, medians of 5 runs) 256 KiB 92 tok/s, 512 KiB 87–97, 1 MiB 87–104,
 * 2 MiB 75 (a 6 MiB layer in only 3 blocks); 1×4096² and 1×4096×11008 (W cold, in-process, medians of
 * 35 calls) 2 MiB ~5% faster than 512 KiB, 1 MiB between.
 */
const GEMV_CHUNK_BYTES = 1 << 20;

/** Rows per block of the FP32 GEMV's dynamic split for rows `k` floats wide: a multiple of 8, ≥ 8. */
export function gemvChunkRows(k: number): number {
  return Math.max(8, Math.floor(GEMV_CHUNK_BYTES / (k * 4) / 8) * 8);
}

/**
 * Multiply-adds per block of a packed GEMV's dynamic split (the packed kernels are compute-bound, so
 * blocks are sized by work, not bytes): 2^19 is 128 rows of a 4096-wide layer, 25–40 µs per block,
 * and the n/8 cap of `packedChunkRows` leaves even a layer just over the split threshold 8 blocks.
 * Measured 2026-11-28 (quiet machine; `pnpm bench decode --no-js --no-ref --no-e2e --reps 7`, runs of
 * each setting alternated, ms at 1×4096² / 1×4096×11008): 2^17 (32 rows) against 2^19: Q4_0 0.61–0.67
 * / 1.53–1.92 → 0.52–0.59 / 1.35–1.41, INT4[32] 0.59–0.62 / 1.53–1.87 → 0.51–0.55 / 1.33–1.39, Q8_0
 * 0.68–0.73 / 1.67–2.20 → 0.52–0.64 / 1.41–1.61; 2^21 (512 rows) no better than 2^19. One kernel
 * timed alone (Q4_0, 11008 rows, 2 threads): blocks of 32 / 64 / 128 / 256 rows 1.60 / 1.46 / 1.42 /
 * 1.42 ms. Each block costs more than its atomic hand-out: both threads' W streams restart, side by
 * side in memory when blocks are small.
 */
const PACKED_CHUNK_WORK = 1 << 19;

/**
 * Rows per block of a packed GEMV's dynamic split (gemv.ts, gemv-nibble.ts, gemv16.ts) for x [m, k]
 * and W [n, k]: a multiple of 8 (the kernels' 4-row passes never straddle blocks), ≥ 8, and at most
 * n/8 so that even a layer just over the split threshold comes in ~8 blocks to share.
 */
export function packedChunkRows(m: number, n: number, k: number): number {
  return Math.max(8, Math.floor(Math.min(PACKED_CHUNK_WORK / (m * k), n / 8) / 8) * 8);
}

/**
 * Blocks a dynamic row split hands out at most: assembly/row-blocks.ts counts the blocks taken from
 * each end in 16 bits of one word.
 */
export const MAX_SPLIT_BLOCKS = 1 << 14;

/**
 * The trailing `[counter, chunk]` kernel arguments of thread `t` of a dynamic row split of n rows in
 * blocks of `rows` (assembly/row-blocks.ts): even threads take blocks from the front, odd ones from
 * the back, so two threads start half the rows apart instead of reading neighbouring blocks side by
 * side. Measured 2026-11-28 (load ≈ 1, both kinds of split interleaved in one process, medians of 13
 * calls through the layers' `apply`, ms at 1×4096² / 1×4096×11008, two runs): FP32 1.99–2.06 / 4.88–5.01
 * → 1.68–1.78 / 4.61–4.67, Q4_0 0.64–0.65 / 1.59–1.60 → 0.63–0.66 / 1.51–1.54, NF4 0.82–0.83 /
 * 2.04–2.07 → 0.78–0.80 / 2.03–2.05; the Q4_0 kernel alone, blocks of 32 rows: 0.64–0.67 / 1.55–1.76
 * → 0.53–0.58 / 1.39–1.54. `rows` grows to a multiple of `unit` where n would make more than
 * MAX_SPLIT_BLOCKS blocks.
 */
export function splitArgs(counterAt: number, rows: number, n: number, t: number, unit = 8): [number, number] {
  const chunk = Math.ceil(n / rows) > MAX_SPLIT_BLOCKS ? Math.ceil(n / MAX_SPLIT_BLOCKS / unit) * unit : rows;
  return [counterAt, t % 2 === 0 ? chunk : -chunk];
}

/**
 * C [m, n] (+)= A [m, k] · Wᵀ with W [n, k] resident at byte `wAt`: the GEMV kernel. On 2 threads both
 * take blocks of `gemvChunkRows(k)` consecutive rows from one atomic counter (gemv-f32.ts), one from
 * each end (`splitArgs`), so the split stays balanced when one thread starts late or is descheduled.
 */
function gemvResident(rt: WasmRuntime, p: MatmulArgs, wAt: number, threads: number): void {
  const { m, n, k } = p;
  const arena = new Arena(rt.scratchBase);
  const xRes = rt.addressOf(p.a);
  const xAt = xRes !== undefined ? xRes + p.aOffset * 4 : arena.take(m * k * 4);
  const yAt = arena.take(m * n * 4);
  const nt = gemvThreads(threads, m * n * k, n, GEMV_F32_SPLIT_MIN_WORK);
  const counterAt = nt > 1 ? arena.take(4) : 0;
  withWorkspace(rt, arena, ({ f32, u8 }) => {
    if (xRes === undefined) f32.set(p.a.subarray(p.aOffset, p.aOffset + m * k), xAt >> 2);
    if (p.accumulate) f32.set(p.c.subarray(p.cOffset, p.cOffset + m * n), yAt >> 2);
    const acc = p.accumulate ? 1 : 0;
    if (nt === 1) rt.run("gemvF32", [[m, k, xAt, k, wAt, k, yAt, n, 0, n, acc, 0, 0]]);
    else {
      u8.fill(0, counterAt, counterAt + 4);
      const head = [m, k, xAt, k, wAt, k, yAt, n, 0, n, acc];
      const chunk = gemvChunkRows(k);
      rt.run(
        "gemvF32",
        Array.from({ length: nt }, (_, t) => [...head, ...splitArgs(counterAt, chunk, n, t)]),
      );
    }
    p.c.set(f32.subarray(yAt >> 2, (yAt >> 2) + m * n), p.cOffset);
  });
}
